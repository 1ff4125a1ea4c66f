-- 0013_contain: a hijacked account is contained, not just counted (issue
-- 19, part 1; docs/policyd.md "Containing a hijacked account").
--
-- ratelimit_rules.contain = 1: when the rule is over its limit for an
-- authenticated (SASL) login, postern-policyd makes that login
-- receive-only: a row in contained_logins, and from then on every policyd
-- instance refuses (or holds, [policyd] contain_action) its submissions
-- until an admin clears the row (`postern contain clear LOGIN`).
-- counts = 'networks' (key_type sasl_login only): the rule counts the
-- distinct client networks (ipv4_prefix, default 24; ipv6_prefix, default
-- 64) a login submitted from within each window; contain_networks is its
-- state (pruned by policyd as it writes).
--
-- contained_logins is STATE written by postern-policyd (the row insert
-- decides which instance sends the one notice of an incident: open_login
-- is unique while cleared_at is NULL) and cleared by the admin command,
-- which records who cleared it (cleared_by) and how; it is not audited
-- like a configuration table: the row itself is the record.  The audit
-- triggers of ratelimit_rules (0007) are made again with the new column.

ALTER TABLE ratelimit_rules
  MODIFY counts ENUM('messages','recipients','bytes','networks') NOT NULL DEFAULT 'messages'
    COMMENT 'what is counted (bytes at END-OF-MESSAGE; networks: distinct client networks of a SASL login)',
  ADD COLUMN contain TINYINT(1) NOT NULL DEFAULT 0
    COMMENT '1 = over the limit, an authenticated login becomes receive-only (contained_logins) until an admin clears it',
  DROP CONSTRAINT ratelimit_rules_prefix,
  ADD CONSTRAINT ratelimit_rules_prefix CHECK ((ipv4_prefix IS NULL AND ipv6_prefix IS NULL) OR ((key_type = 'client_address' OR counts = 'networks')
      AND (ipv4_prefix IS NULL OR ipv4_prefix BETWEEN 8 AND 32) AND (ipv6_prefix IS NULL OR ipv6_prefix BETWEEN 16 AND 128))),
  ADD CONSTRAINT ratelimit_rules_networks CHECK (counts <> 'networks' OR key_type = 'sasl_login'),
  ADD CONSTRAINT ratelimit_rules_contain_flag CHECK (contain IN (0, 1)),
  ADD CONSTRAINT ratelimit_rules_contain_keys CHECK (contain = 0 OR key_type <> 'forwarder');

CREATE TABLE contained_logins (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key: one row per incident',
  login       VARCHAR(320) NOT NULL COMMENT 'the SASL login (canonical, lower-case) that may not send',
  since       TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'when the rule fired',
  rule_name   VARCHAR(64) NOT NULL COMMENT 'the ratelimit_rules.name that fired',
  action      ENUM('reject','hold') NOT NULL DEFAULT 'reject' COMMENT 'what happens to its submissions: 550 5.7.1, or HOLD in the Postfix queue (the rule''s action hold)',
  evidence    VARCHAR(1000) NOT NULL COMMENT 'what the rule saw: the window and its limit, the count',
  clients     VARCHAR(2000) NULL COMMENT 'client addresses seen in the incident, comma-separated (bounded)',
  recipients  VARCHAR(2000) NULL COMMENT 'a sample of the recipients of its refused or held mail, comma-separated (bounded)',
  queue_ids   VARCHAR(2000) NULL COMMENT 'Postfix queue ids of its held messages, comma-separated (contain_action = hold)',
  attempts    INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'refused or held requests since',
  notified_at TIMESTAMP NULL COMMENT 'when the admin and the user were told (once per incident)',
  cleared_at  TIMESTAMP NULL COMMENT 'NULL = the login is contained now',
  cleared_by  VARCHAR(80) NULL COMMENT 'the admin who cleared it (postern contain clear)',
  cleared_how ENUM('keep','release','discard') NULL COMMENT 'what was done with the held messages',
  open_login  VARCHAR(320) AS (IF(cleared_at IS NULL, login, NULL)) PERSISTENT COMMENT 'login while contained: at most one open incident per login',
  UNIQUE KEY contained_logins_open (open_login),
  KEY contained_logins_login (login, since),
  CONSTRAINT contained_logins_login_lower CHECK (login <> '' AND login = LOWER(login) COLLATE utf8mb4_bin)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-policyd, cleared by postern contain clear): logins made receive-only by a contain rule';

CREATE TABLE contain_networks (
  rule_id   INT UNSIGNED NOT NULL COMMENT 'the ratelimit_rules row (counts = networks)',
  login     VARCHAR(320) NOT NULL COMMENT 'the SASL login',
  net       VARCHAR(64) NOT NULL COMMENT 'the client network (address masked to the rule prefix)',
  client    VARCHAR(64) NOT NULL COMMENT 'the last client address seen in that network',
  last_seen BIGINT UNSIGNED NOT NULL COMMENT 'Unix time the login last submitted from it',
  PRIMARY KEY (rule_id, login, net),
  KEY contain_networks_seen (last_seen),
  CONSTRAINT fk_contain_networks_rule FOREIGN KEY (rule_id) REFERENCES ratelimit_rules (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-policyd): the client networks each login submitted from, for counts = networks rules';

-- the audit triggers of ratelimit_rules (0007) again, with the new column
DROP TRIGGER ratelimit_rules_audit_ai;
DROP TRIGGER ratelimit_rules_audit_au;
DROP TRIGGER ratelimit_rules_audit_ad;

DELIMITER //

CREATE TRIGGER ratelimit_rules_audit_ai AFTER INSERT ON ratelimit_rules FOR EACH ROW FOLLOWS ratelimit_rules_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_rules', 'INSERT', LEFT(NEW.name, 700), LEFT(IF(NEW.match_value LIKE '%@%', NEW.match_value, NULL), 320), LEFT(IF(NEW.match_value LIKE '%@%', SUBSTRING_INDEX(NEW.match_value, '@', -1), NULL), 253), NULL, JSON_OBJECT('id', NEW.id, 'name', NEW.name, 'key_type', NEW.key_type, 'match_value', NEW.match_value, 'group_id', NEW.group_id, 'counts', NEW.counts, 'action', NEW.action, 'text', NEW.text, 'priority', NEW.priority, 'ipv4_prefix', NEW.ipv4_prefix, 'ipv6_prefix', NEW.ipv6_prefix, 'comment', NEW.comment, 'active', NEW.active, 'contain', NEW.contain))//
CREATE TRIGGER ratelimit_rules_audit_au AFTER UPDATE ON ratelimit_rules FOR EACH ROW FOLLOWS ratelimit_rules_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.name <=> BINARY NEW.name) THEN SET o = JSON_SET(o, '$.name', OLD.name), n = JSON_SET(n, '$.name', NEW.name); END IF;
  IF NOT (BINARY OLD.key_type <=> BINARY NEW.key_type) THEN SET o = JSON_SET(o, '$.key_type', OLD.key_type), n = JSON_SET(n, '$.key_type', NEW.key_type); END IF;
  IF NOT (BINARY OLD.match_value <=> BINARY NEW.match_value) THEN SET o = JSON_SET(o, '$.match_value', OLD.match_value), n = JSON_SET(n, '$.match_value', NEW.match_value); END IF;
  IF NOT (BINARY OLD.group_id <=> BINARY NEW.group_id) THEN SET o = JSON_SET(o, '$.group_id', OLD.group_id), n = JSON_SET(n, '$.group_id', NEW.group_id); END IF;
  IF NOT (BINARY OLD.counts <=> BINARY NEW.counts) THEN SET o = JSON_SET(o, '$.counts', OLD.counts), n = JSON_SET(n, '$.counts', NEW.counts); END IF;
  IF NOT (BINARY OLD.action <=> BINARY NEW.action) THEN SET o = JSON_SET(o, '$.action', OLD.action), n = JSON_SET(n, '$.action', NEW.action); END IF;
  IF NOT (BINARY OLD.text <=> BINARY NEW.text) THEN SET o = JSON_SET(o, '$.text', OLD.text), n = JSON_SET(n, '$.text', NEW.text); END IF;
  IF NOT (BINARY OLD.priority <=> BINARY NEW.priority) THEN SET o = JSON_SET(o, '$.priority', OLD.priority), n = JSON_SET(n, '$.priority', NEW.priority); END IF;
  IF NOT (BINARY OLD.ipv4_prefix <=> BINARY NEW.ipv4_prefix) THEN SET o = JSON_SET(o, '$.ipv4_prefix', OLD.ipv4_prefix), n = JSON_SET(n, '$.ipv4_prefix', NEW.ipv4_prefix); END IF;
  IF NOT (BINARY OLD.ipv6_prefix <=> BINARY NEW.ipv6_prefix) THEN SET o = JSON_SET(o, '$.ipv6_prefix', OLD.ipv6_prefix), n = JSON_SET(n, '$.ipv6_prefix', NEW.ipv6_prefix); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF NOT (BINARY OLD.contain <=> BINARY NEW.contain) THEN SET o = JSON_SET(o, '$.contain', OLD.contain), n = JSON_SET(n, '$.contain', NEW.contain); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_rules', 'UPDATE', LEFT(NEW.name, 700), LEFT(IF(NEW.match_value LIKE '%@%', NEW.match_value, NULL), 320), LEFT(IF(NEW.match_value LIKE '%@%', SUBSTRING_INDEX(NEW.match_value, '@', -1), NULL), 253), o, n);
  END IF;
END//
CREATE TRIGGER ratelimit_rules_audit_ad AFTER DELETE ON ratelimit_rules FOR EACH ROW FOLLOWS ratelimit_rules_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_rules', 'DELETE', LEFT(OLD.name, 700), LEFT(IF(OLD.match_value LIKE '%@%', OLD.match_value, NULL), 320), LEFT(IF(OLD.match_value LIKE '%@%', SUBSTRING_INDEX(OLD.match_value, '@', -1), NULL), 253), JSON_OBJECT('id', OLD.id, 'name', OLD.name, 'key_type', OLD.key_type, 'match_value', OLD.match_value, 'group_id', OLD.group_id, 'counts', OLD.counts, 'action', OLD.action, 'text', OLD.text, 'priority', OLD.priority, 'ipv4_prefix', OLD.ipv4_prefix, 'ipv6_prefix', OLD.ipv6_prefix, 'comment', OLD.comment, 'active', OLD.active, 'contain', OLD.contain), NULL)//

DELIMITER ;
