-- 0002_sieve_duplicates: state of the Sieve "duplicate" test (RFC 7352)
-- and of redirect loop protection in postern-lda.

CREATE TABLE sieve_duplicates (
  mailbox    VARCHAR(320) NOT NULL COMMENT 'the mailbox address whose script tracked the id',
  id_hash    CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
             COMMENT 'hex SHA-256 of the :handle and the unique id (Message-ID, :header, :uniqueid), or of "redirect" + target + Message-ID',
  seen_at    BIGINT UNSIGNED NOT NULL COMMENT 'Unix time the id was stored',
  expires_at BIGINT UNSIGNED NOT NULL COMMENT 'Unix time after which the id counts as new again; pruning',
  PRIMARY KEY (mailbox, id_hash),
  KEY sieve_duplicates_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-lda): ids seen by the Sieve duplicate test and redirects already done';
