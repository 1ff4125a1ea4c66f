-- 0011_dmarc_reports: what `postern dmarc report` has sent.
--
-- dmarc_reports_sent: one row per (UTC day, policy domain, rua
-- destination) to which the aggregate report of that day was handed to
-- sendmail successfully.  A second run for the same day sends nothing to a
-- destination listed here.  Destinations skipped (size limit, external
-- destination not verified, DNS or sendmail failure) get no row: a later
-- run tries them again.  STATE (not audited, no change_counter trigger),
-- pruned with dmarc_results by the report job ([dmarc] keep).

CREATE TABLE dmarc_reports_sent (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key (Galera needs a primary key)',
  day             DATE NOT NULL COMMENT 'UTC day the report covers',
  policy_domain   VARCHAR(253) NOT NULL COMMENT 'the domain the report is about (dmarc_results.policy_domain)',
  destination     VARCHAR(320) NOT NULL COMMENT 'the mailto: address of rua the report went to (lower-case)',
  report_id       VARCHAR(255) NOT NULL COMMENT 'report_metadata/report_id of the report',
  bytes           INT UNSIGNED NOT NULL COMMENT 'size of the message handed to sendmail',
  sent_at         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY dmarc_reports_sent_dest (day, policy_domain, destination)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern dmarc report): aggregate reports sent, so a re-run sends nothing twice';
