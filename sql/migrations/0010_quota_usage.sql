-- 0010_quota_usage: each mailbox's storage usage, so that every MX host
-- knows it without shared storage (issue 17, part 4).
--
-- postern-lda writes the row after every delivery, with the absolute
-- figures of the mailbox's Maildir++ quota state (maildirsize), also when
-- the mailbox is over quota; `postern quota recount` counts the Maildir
-- again and writes it (source recount); Dovecot's quota_clone plugin may
-- write bytes and messages after IMAP changes (docs/dovecot.md), so its
-- inserts need the defaults below (source dovecot, the other figure 0).
-- The policy check of postern-policyd reads it at RCPT time (552 5.2.2
-- for a full mailbox); postern-lda keeps the state of the quota warnings
-- in it (warned_percent, warned_at).
--
-- STATE (not audited, no change_counter trigger), like the tables listed
-- in 0007_audit.sql.  No foreign key to mailboxes: a row of a deleted
-- mailbox is harmless (nothing reads it) and `postern quota recount --all`
-- does not recreate it.

CREATE TABLE mailbox_usage (
  address        VARCHAR(320) NOT NULL PRIMARY KEY COMMENT 'mailboxes.address: the canonical, lower-case mailbox address',
  bytes          BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'bytes stored in the mailbox (every folder, Trash included), as Maildir++ counts them',
  messages       BIGINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'messages stored in the mailbox (every folder)',
  quota_bytes    BIGINT UNSIGNED NULL COMMENT 'the limit in force when the row was written (0 = unlimited; NULL = not known, e.g. a row Dovecot created), so the RCPT check needs no second lookup',
  source         ENUM('lda','recount','dovecot') NOT NULL DEFAULT 'dovecot' COMMENT 'who wrote the figures last: postern-lda after a delivery, postern quota recount, Dovecot quota_clone (which only inserts; its updates keep the previous source)',
  updated_at     TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6) COMMENT 'when the figures were last written',
  warned_percent TINYINT UNSIGNED NULL COMMENT 'the last quota warning threshold (percent) postern-lda sent to the mailbox; NULL = none since the usage was last below every threshold',
  warned_at      TIMESTAMP NULL COMMENT 'when that warning (or its last reminder) was delivered',
  KEY mailbox_usage_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-lda, postern quota recount, Dovecot quota_clone): storage usage and quota warning state per mailbox';
