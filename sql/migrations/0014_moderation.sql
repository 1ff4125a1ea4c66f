-- 0014_moderation: moderated group mail (issue 19, "Moderated group
-- mail"; docs/milter.md "Moderated groups").
--
-- A group_send_rules row with at least one group_moderators row is
-- moderated: mail from a sender its may_send refuses is not refused but
-- held in Postfix's hold queue (postern-milter, smfi_quarantine) and
-- recorded in moderation_queue; the moderators approve or reject it by
-- replying to a one-time address or with `postern moderate`
-- (admin/moderate.c), which also mails the moderators and expires
-- undecided messages after [milter] moderation_timeout.
--
-- group_moderators is CONFIGURATION (audited like 0007_audit.sql);
-- moderation_queue is STATE, shared by every MX host (each row names the
-- host whose hold queue has the message), not audited: every decision is
-- in its row (decision, decided_by, decided_at, reason) and in the logs.

CREATE TABLE group_moderators (
  rule_id     INT UNSIGNED NOT NULL COMMENT 'the group_send_rules row this moderator decides for',
  moderator   VARCHAR(320) NOT NULL COMMENT 'an address (a person), the address of an LDAP group whose members moderate (e.g. the class teachers), or the name of a policy group (its address and LDAP-group members moderate)',
  created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (rule_id, moderator),
  CONSTRAINT fk_group_moderators_rule FOREIGN KEY (rule_id) REFERENCES group_send_rules (id) ON DELETE CASCADE,
  CONSTRAINT group_moderators_syntax CHECK (moderator = LOWER(moderator) COLLATE utf8mb4_bin AND (moderator REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' OR moderator REGEXP '^[a-z0-9][a-z0-9._-]*$'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='CONFIGURATION: moderators of a group_send_rules row; a rule with moderators holds refused mail for them instead of refusing it';

CREATE TABLE moderation_queue (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'the ID of postern moderate approve|reject ID',
  host          VARCHAR(255) NOT NULL COMMENT 'the MX host whose Postfix hold queue has the message (gethostname)',
  queue_id      VARCHAR(32) NOT NULL COMMENT 'Postfix queue ID of the held message',
  rule_id       INT UNSIGNED NULL COMMENT 'the group_send_rules row that held it (NULL once the rule is gone)',
  group_address VARCHAR(320) NOT NULL COMMENT 'the group written to',
  sender        VARCHAR(320) NOT NULL COMMENT 'envelope sender ("" for <>)',
  login         VARCHAR(320) NULL COMMENT 'SASL login of the sender, NULL unauthenticated',
  subject       VARCHAR(255) NULL COMMENT 'Subject, sanitized and cut',
  excerpt       VARCHAR(2000) NULL COMMENT 'the first lines of the body, sanitized and cut',
  token_hash    CHAR(64) NULL COMMENT 'SHA-256 (hex) of the one-time reply token; NULL until the moderators are mailed, and again once used',
  created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'when the message was held',
  notified_at   TIMESTAMP NULL COMMENT 'when the moderators were mailed',
  decision      ENUM('approve','reject','expire') NULL COMMENT 'NULL = waiting',
  decided_by    VARCHAR(320) NULL COMMENT 'the moderator (address or admin user), or "timeout"',
  decided_at    TIMESTAMP NULL,
  reason        VARCHAR(255) NULL COMMENT 'reject reason told to the sender',
  applied_at    TIMESTAMP NULL COMMENT 'when the decision was carried out on the hold queue (released or deleted)',
  UNIQUE KEY moderation_queue_msg (host, queue_id),
  UNIQUE KEY moderation_queue_token (token_hash),
  KEY moderation_queue_todo (host, applied_at),
  CONSTRAINT fk_moderation_queue_rule FOREIGN KEY (rule_id) REFERENCES group_send_rules (id) ON DELETE SET NULL,
  CONSTRAINT moderation_queue_decided CHECK (decision IS NULL OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)),
  CONSTRAINT moderation_queue_applied CHECK (applied_at IS NULL OR decision IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE: messages held for moderation (postern-milter) and their decisions (postern moderate)';

DELIMITER //
CREATE TRIGGER group_moderators_audit_ai AFTER INSERT ON group_moderators FOR EACH ROW
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_moderators', 'INSERT', LEFT(CONCAT('rule#', NEW.rule_id, ' ', NEW.moderator), 700), LEFT(NEW.moderator, 320), LEFT(SUBSTRING_INDEX(NEW.moderator, '@', -1), 253), NULL, JSON_OBJECT('rule_id', NEW.rule_id, 'moderator', NEW.moderator))//
CREATE TRIGGER group_moderators_audit_au AFTER UPDATE ON group_moderators FOR EACH ROW BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.rule_id <=> BINARY NEW.rule_id) THEN SET o = JSON_SET(o, '$.rule_id', OLD.rule_id), n = JSON_SET(n, '$.rule_id', NEW.rule_id); END IF;
  IF NOT (BINARY OLD.moderator <=> BINARY NEW.moderator) THEN SET o = JSON_SET(o, '$.moderator', OLD.moderator), n = JSON_SET(n, '$.moderator', NEW.moderator); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_moderators', 'UPDATE', LEFT(CONCAT('rule#', NEW.rule_id, ' ', NEW.moderator), 700), LEFT(NEW.moderator, 320), LEFT(SUBSTRING_INDEX(NEW.moderator, '@', -1), 253), o, n);
  END IF;
END//
CREATE TRIGGER group_moderators_audit_ad AFTER DELETE ON group_moderators FOR EACH ROW
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_moderators', 'DELETE', LEFT(CONCAT('rule#', OLD.rule_id, ' ', OLD.moderator), 700), LEFT(OLD.moderator, 320), LEFT(SUBSTRING_INDEX(OLD.moderator, '@', -1), 253), JSON_OBJECT('rule_id', OLD.rule_id, 'moderator', OLD.moderator), NULL)//
DELIMITER ;
