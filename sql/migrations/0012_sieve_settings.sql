-- 0012_sieve_settings: per-mailbox settings that need no Sieve (issue 18,
-- "Settings without Sieve"): an out-of-office reply, forwards, and a spam
-- threshold with a Junk folder.
--
-- Written by `postern vacation|forward|spam ...` (admin/sieve_settings.c)
-- or by hand; read by postern-lda with one query per delivery
-- (lib-sieve/settings.c) and turned into a generated Sieve script that
-- runs after [lda] sieve_before and before the user's own script
-- (docs/sieve.md "Settings without Sieve").  postern-managesieve shows
-- that script read-only as "postern-settings".
--
-- Dates are UTC.  A mailbox without a row has no settings; the row goes
-- with the mailbox (ON DELETE CASCADE).  CONFIGURATION tables: audited
-- like the tables of 0007_audit.sql (row_key and address are the
-- mailbox's address).

CREATE TABLE mailbox_settings (
  mailbox_id         INT UNSIGNED NOT NULL PRIMARY KEY COMMENT 'mailboxes.id',
  vacation_active    TINYINT(1) NOT NULL DEFAULT 0 COMMENT '1 = send the out-of-office reply (within the window below)',
  vacation_subject   VARCHAR(255) NULL COMMENT 'subject of the reply; NULL = "Auto: " + the original subject',
  vacation_body      TEXT NULL COMMENT 'the reply text (UTF-8, at most 8000 characters)',
  vacation_from      DATETIME NULL COMMENT 'UTC: no reply before this time; NULL = at once',
  vacation_until     DATETIME NULL COMMENT 'UTC: no reply after this time; NULL = until switched off',
  vacation_days      SMALLINT UNSIGNED NULL COMMENT 'one reply per sender per N days (:days); NULL = [lda] vacation_default_period',
  vacation_addresses VARCHAR(2000) NULL COMMENT 'further addresses of the user (:addresses), separated by ","',
  forward_keep       TINYINT(1) NOT NULL DEFAULT 1 COMMENT 'forwards (mailbox_forwards): 1 = keep a copy here, 0 = do not (the user''s own script still runs and may file one)',
  spam_threshold     DECIMAL(7,2) NULL COMMENT 'spam score (the scanner''s, [lda] sieve_spam_score_header) at or over which mail goes to spam_folder; NULL = off',
  spam_folder        VARCHAR(255) NOT NULL DEFAULT 'Junk' COMMENT 'folder for spam (UTF-8, "/" or "." as separator)',
  updated_at         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  CONSTRAINT fk_mailbox_settings_mailbox FOREIGN KEY (mailbox_id) REFERENCES mailboxes (id) ON DELETE CASCADE,
  CONSTRAINT mailbox_settings_body_len CHECK (vacation_body IS NULL OR CHAR_LENGTH(vacation_body) <= 8000),
  CONSTRAINT mailbox_settings_vacation_text CHECK (vacation_active = 0 OR vacation_body IS NOT NULL),
  CONSTRAINT mailbox_settings_window CHECK (vacation_from IS NULL OR vacation_until IS NULL OR vacation_from <= vacation_until),
  CONSTRAINT mailbox_settings_days CHECK (vacation_days IS NULL OR vacation_days BETWEEN 1 AND 365),
  CONSTRAINT mailbox_settings_spam CHECK (spam_threshold IS NULL OR spam_threshold BETWEEN -1000 AND 1000),
  CONSTRAINT mailbox_settings_folder CHECK (spam_folder <> '' AND spam_folder NOT REGEXP '[[:cntrl:]]')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='CONFIGURATION: per-mailbox out-of-office reply, forward copy flag and spam threshold (a generated Sieve script)';

CREATE TABLE mailbox_forwards (
  id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key',
  mailbox_id INT UNSIGNED NOT NULL COMMENT 'mailboxes.id',
  target     VARCHAR(320) NOT NULL COMMENT 'forward every message to this address (Sieve redirect; at most 10 per mailbox)',
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  UNIQUE KEY mailbox_forwards_target (mailbox_id, target),
  CONSTRAINT fk_mailbox_forwards_mailbox FOREIGN KEY (mailbox_id) REFERENCES mailboxes (id) ON DELETE CASCADE,
  CONSTRAINT mailbox_forwards_target_syntax CHECK (target REGEXP '^[^@[:space:][:cntrl:]"]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='CONFIGURATION: forward targets of a mailbox (Sieve redirect; mailbox_settings.forward_keep says whether a copy stays)';

DELIMITER //

CREATE TRIGGER mailbox_settings_audit_ai AFTER INSERT ON mailbox_settings FOR EACH ROW BEGIN
  DECLARE a VARCHAR(320) DEFAULT (SELECT address FROM mailboxes WHERE id = NEW.mailbox_id);
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailbox_settings', 'INSERT', LEFT(COALESCE(a, NEW.mailbox_id), 700), LEFT(a, 320), LEFT(SUBSTRING_INDEX(a, '@', -1), 253), NULL, JSON_OBJECT('mailbox_id', NEW.mailbox_id, 'vacation_active', NEW.vacation_active, 'vacation_subject', NEW.vacation_subject, 'vacation_body', NEW.vacation_body, 'vacation_from', NEW.vacation_from, 'vacation_until', NEW.vacation_until, 'vacation_days', NEW.vacation_days, 'vacation_addresses', NEW.vacation_addresses, 'forward_keep', NEW.forward_keep, 'spam_threshold', NEW.spam_threshold, 'spam_folder', NEW.spam_folder));
END//
CREATE TRIGGER mailbox_settings_audit_au AFTER UPDATE ON mailbox_settings FOR EACH ROW BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  DECLARE a VARCHAR(320) DEFAULT (SELECT address FROM mailboxes WHERE id = NEW.mailbox_id);
  IF NOT (BINARY OLD.mailbox_id <=> BINARY NEW.mailbox_id) THEN SET o = JSON_SET(o, '$.mailbox_id', OLD.mailbox_id), n = JSON_SET(n, '$.mailbox_id', NEW.mailbox_id); END IF;
  IF NOT (BINARY OLD.vacation_active <=> BINARY NEW.vacation_active) THEN SET o = JSON_SET(o, '$.vacation_active', OLD.vacation_active), n = JSON_SET(n, '$.vacation_active', NEW.vacation_active); END IF;
  IF NOT (BINARY OLD.vacation_subject <=> BINARY NEW.vacation_subject) THEN SET o = JSON_SET(o, '$.vacation_subject', OLD.vacation_subject), n = JSON_SET(n, '$.vacation_subject', NEW.vacation_subject); END IF;
  IF NOT (BINARY OLD.vacation_body <=> BINARY NEW.vacation_body) THEN SET o = JSON_SET(o, '$.vacation_body', OLD.vacation_body), n = JSON_SET(n, '$.vacation_body', NEW.vacation_body); END IF;
  IF NOT (BINARY OLD.vacation_from <=> BINARY NEW.vacation_from) THEN SET o = JSON_SET(o, '$.vacation_from', OLD.vacation_from), n = JSON_SET(n, '$.vacation_from', NEW.vacation_from); END IF;
  IF NOT (BINARY OLD.vacation_until <=> BINARY NEW.vacation_until) THEN SET o = JSON_SET(o, '$.vacation_until', OLD.vacation_until), n = JSON_SET(n, '$.vacation_until', NEW.vacation_until); END IF;
  IF NOT (BINARY OLD.vacation_days <=> BINARY NEW.vacation_days) THEN SET o = JSON_SET(o, '$.vacation_days', OLD.vacation_days), n = JSON_SET(n, '$.vacation_days', NEW.vacation_days); END IF;
  IF NOT (BINARY OLD.vacation_addresses <=> BINARY NEW.vacation_addresses) THEN SET o = JSON_SET(o, '$.vacation_addresses', OLD.vacation_addresses), n = JSON_SET(n, '$.vacation_addresses', NEW.vacation_addresses); END IF;
  IF NOT (BINARY OLD.forward_keep <=> BINARY NEW.forward_keep) THEN SET o = JSON_SET(o, '$.forward_keep', OLD.forward_keep), n = JSON_SET(n, '$.forward_keep', NEW.forward_keep); END IF;
  IF NOT (BINARY OLD.spam_threshold <=> BINARY NEW.spam_threshold) THEN SET o = JSON_SET(o, '$.spam_threshold', OLD.spam_threshold), n = JSON_SET(n, '$.spam_threshold', NEW.spam_threshold); END IF;
  IF NOT (BINARY OLD.spam_folder <=> BINARY NEW.spam_folder) THEN SET o = JSON_SET(o, '$.spam_folder', OLD.spam_folder), n = JSON_SET(n, '$.spam_folder', NEW.spam_folder); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailbox_settings', 'UPDATE', LEFT(COALESCE(a, NEW.mailbox_id), 700), LEFT(a, 320), LEFT(SUBSTRING_INDEX(a, '@', -1), 253), o, n);
  END IF;
END//
CREATE TRIGGER mailbox_settings_audit_ad AFTER DELETE ON mailbox_settings FOR EACH ROW BEGIN
  DECLARE a VARCHAR(320) DEFAULT (SELECT address FROM mailboxes WHERE id = OLD.mailbox_id);
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailbox_settings', 'DELETE', LEFT(COALESCE(a, OLD.mailbox_id), 700), LEFT(a, 320), LEFT(SUBSTRING_INDEX(a, '@', -1), 253), JSON_OBJECT('mailbox_id', OLD.mailbox_id, 'vacation_active', OLD.vacation_active, 'vacation_subject', OLD.vacation_subject, 'vacation_body', OLD.vacation_body, 'vacation_from', OLD.vacation_from, 'vacation_until', OLD.vacation_until, 'vacation_days', OLD.vacation_days, 'vacation_addresses', OLD.vacation_addresses, 'forward_keep', OLD.forward_keep, 'spam_threshold', OLD.spam_threshold, 'spam_folder', OLD.spam_folder), NULL);
END//

CREATE TRIGGER mailbox_forwards_audit_ai AFTER INSERT ON mailbox_forwards FOR EACH ROW BEGIN
  DECLARE a VARCHAR(320) DEFAULT (SELECT address FROM mailboxes WHERE id = NEW.mailbox_id);
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailbox_forwards', 'INSERT', LEFT(CONCAT(COALESCE(a, NEW.mailbox_id), ' -> ', NEW.target), 700), LEFT(a, 320), LEFT(SUBSTRING_INDEX(a, '@', -1), 253), NULL, JSON_OBJECT('id', NEW.id, 'mailbox_id', NEW.mailbox_id, 'target', NEW.target));
END//
CREATE TRIGGER mailbox_forwards_audit_au AFTER UPDATE ON mailbox_forwards FOR EACH ROW BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  DECLARE a VARCHAR(320) DEFAULT (SELECT address FROM mailboxes WHERE id = NEW.mailbox_id);
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.mailbox_id <=> BINARY NEW.mailbox_id) THEN SET o = JSON_SET(o, '$.mailbox_id', OLD.mailbox_id), n = JSON_SET(n, '$.mailbox_id', NEW.mailbox_id); END IF;
  IF NOT (BINARY OLD.target <=> BINARY NEW.target) THEN SET o = JSON_SET(o, '$.target', OLD.target), n = JSON_SET(n, '$.target', NEW.target); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailbox_forwards', 'UPDATE', LEFT(CONCAT(COALESCE(a, NEW.mailbox_id), ' -> ', NEW.target), 700), LEFT(a, 320), LEFT(SUBSTRING_INDEX(a, '@', -1), 253), o, n);
  END IF;
END//
CREATE TRIGGER mailbox_forwards_audit_ad AFTER DELETE ON mailbox_forwards FOR EACH ROW BEGIN
  DECLARE a VARCHAR(320) DEFAULT (SELECT address FROM mailboxes WHERE id = OLD.mailbox_id);
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailbox_forwards', 'DELETE', LEFT(CONCAT(COALESCE(a, OLD.mailbox_id), ' -> ', OLD.target), 700), LEFT(a, 320), LEFT(SUBSTRING_INDEX(a, '@', -1), 253), JSON_OBJECT('id', OLD.id, 'mailbox_id', OLD.mailbox_id, 'target', OLD.target), NULL);
END//

DELIMITER ;
