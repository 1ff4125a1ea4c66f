-- 0003_policy_domain_checks: postern-policyd's checks switched on or off
-- per recipient domain (NULL = as [policyd] checks says).

CREATE TABLE policy_domain_checks (
  domain       VARCHAR(253) NOT NULL PRIMARY KEY COMMENT 'recipient domain (a domains row); its alias domains follow it only if listed themselves',
  spf          TINYINT(1) NULL COMMENT '0 = no SPF check for mail to this domain, 1 = check; NULL = [policyd] checks decides',
  sender_rules TINYINT(1) NULL COMMENT '0 = sender rules are not applied to recipients of this domain; NULL = [policyd] checks decides',
  greylist     TINYINT(1) NULL COMMENT '0 = no greylisting (same as greylist_settings.enabled = 0); NULL = [policyd] checks decides',
  ratelimit    TINYINT(1) NULL COMMENT '0 = rate limits do not count mail to this domain at RCPT; NULL = [policyd] checks decides',
  comment      VARCHAR(255) NULL COMMENT 'free text for admins',
  created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  CONSTRAINT fk_policy_domain_checks_domain FOREIGN KEY (domain) REFERENCES domains (name) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT policy_domain_checks_flags CHECK ((spf IS NULL OR spf IN (0, 1)) AND (sender_rules IS NULL OR sender_rules IN (0, 1))
      AND (greylist IS NULL OR greylist IN (0, 1)) AND (ratelimit IS NULL OR ratelimit IN (0, 1)))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='postern-policyd: which checks run for mail to a recipient domain';

INSERT INTO change_counter (tbl) VALUES ('policy_domain_checks');
CREATE TRIGGER policy_domain_checks_ai AFTER INSERT ON policy_domain_checks FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'policy_domain_checks';
CREATE TRIGGER policy_domain_checks_au AFTER UPDATE ON policy_domain_checks FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'policy_domain_checks';
CREATE TRIGGER policy_domain_checks_ad AFTER DELETE ON policy_domain_checks FOR EACH ROW UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'policy_domain_checks';
