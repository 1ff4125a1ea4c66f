-- 0004_sieve_sends: how many mails each mailbox's Sieve scripts made
-- postern-lda send (redirect, notify, vacation) per window of
-- [lda] sieve_send_period, for [lda] sieve_send_max_per_period.

CREATE TABLE sieve_sends (
  mailbox      VARCHAR(320) NOT NULL COMMENT 'the mailbox address whose scripts sent',
  window_start BIGINT UNSIGNED NOT NULL COMMENT 'Unix time the window began (a multiple of [lda] sieve_send_period); pruning',
  sent         INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'mails sent in that window (redirects, notification recipients, vacation replies)',
  PRIMARY KEY (mailbox, window_start),
  KEY sieve_sends_window (window_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-lda): the per-mailbox bound on mails Sieve scripts send';
