-- 0007_audit: an audit log of every change to a configuration table,
-- written by the database itself (docs/audit.md).
--
-- Triggers AFTER INSERT/UPDATE/DELETE on each configuration table write
-- one audit_log row per changed row, whoever changed it: postern (which
-- names its admin in the session variable @postern_user), postern-dirsync
-- (@postern_user = 'postern-dirsync'), a provisioning system or
-- hand-written SQL (admin_user NULL).  db_user is USER(), the account of
-- the client session (CURRENT_USER() would name the trigger's definer).
-- old_values/new_values are JSON objects of the row's columns (an UPDATE
-- records only the columns that changed and writes nothing when none
-- did; created_at, updated_at and derived columns such as maildir are
-- left out).  Secrets are never copied: mailboxes.password_hash shows as
-- "(set)" / "(changed)"; dkim_keys holds only the path of a key file,
-- never key material.
--
-- The audit triggers follow the change_log triggers of 0005 (FOLLOWS), so
-- the change_counter row is still locked first.  State tables
-- (greylist_triplets, greylist_clients, ratelimit_keys/events, change_log,
-- sieve_*, vacation_*, directory_sync/log/guard) are not audited.  Rows
-- removed or changed by a foreign key's ON DELETE/UPDATE CASCADE fire no
-- trigger in MariaDB and are not recorded (the parent's change is).
-- The log is an ordinary InnoDB table: Galera replicates the rows the
-- triggers write as row events (appliers do not run triggers again).
-- `postern audit prune` deletes old rows ([audit] retention).
-- The triggers name every column: a migration that adds a column to an
-- audited table recreates that table's three audit triggers with it.

CREATE TABLE audit_log (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY COMMENT 'surrogate key (Galera needs a primary key)',
  at         TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) COMMENT 'when the statement ran (UTC inside; shown in the session time zone)',
  db_user    VARCHAR(384) NOT NULL COMMENT 'USER() of the session: the database account and client host',
  admin_user VARCHAR(80) NULL COMMENT '@postern_user of the session: the admin named by postern, postern-dirsync; NULL = hand-written SQL',
  table_name VARCHAR(64) NOT NULL COMMENT 'the changed table',
  op         ENUM('INSERT','UPDATE','DELETE') NOT NULL COMMENT 'the change',
  row_key    VARCHAR(700) NOT NULL COMMENT 'the row, readable: domains.name, mailboxes.address, "source -> target" of an alias, ... (after an UPDATE: the new key)',
  address    VARCHAR(320) NULL COMMENT 'the mail address the row is about, for postern audit ADDRESS (NULL if none)',
  domain     VARCHAR(253) NULL COMMENT 'the domain the row is about, for postern audit DOMAIN (NULL if none)',
  old_values JSON NULL COMMENT 'UPDATE: changed columns before; DELETE: the whole row; INSERT: NULL',
  new_values JSON NULL COMMENT 'UPDATE: changed columns after; INSERT: the whole row; DELETE: NULL',
  KEY audit_log_at (at),
  KEY audit_log_table (table_name, at),
  KEY audit_log_address (address, at),
  KEY audit_log_domain (domain, at),
  KEY audit_log_admin (admin_user, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Who changed which configuration row when: written by triggers, read by postern audit, pruned by postern audit prune';

DELIMITER //

CREATE TRIGGER domains_audit_ai AFTER INSERT ON domains FOR EACH ROW FOLLOWS domains_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'domains', 'INSERT', LEFT(NEW.name, 700), LEFT(NULL, 320), LEFT(NEW.name, 253), NULL, JSON_OBJECT('name', NEW.name, 'kind', NEW.kind, 'alias_target', NEW.alias_target, 'transport', NEW.transport, 'legacy_transport', NEW.legacy_transport, 'relayhost', NEW.relayhost, 'default_quota_bytes', NEW.default_quota_bytes, 'dkim_selector', NEW.dkim_selector, 'description', NEW.description, 'active', NEW.active))//
CREATE TRIGGER domains_audit_au AFTER UPDATE ON domains FOR EACH ROW FOLLOWS domains_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.name <=> BINARY NEW.name) THEN SET o = JSON_SET(o, '$.name', OLD.name), n = JSON_SET(n, '$.name', NEW.name); END IF;
  IF NOT (BINARY OLD.kind <=> BINARY NEW.kind) THEN SET o = JSON_SET(o, '$.kind', OLD.kind), n = JSON_SET(n, '$.kind', NEW.kind); END IF;
  IF NOT (BINARY OLD.alias_target <=> BINARY NEW.alias_target) THEN SET o = JSON_SET(o, '$.alias_target', OLD.alias_target), n = JSON_SET(n, '$.alias_target', NEW.alias_target); END IF;
  IF NOT (BINARY OLD.transport <=> BINARY NEW.transport) THEN SET o = JSON_SET(o, '$.transport', OLD.transport), n = JSON_SET(n, '$.transport', NEW.transport); END IF;
  IF NOT (BINARY OLD.legacy_transport <=> BINARY NEW.legacy_transport) THEN SET o = JSON_SET(o, '$.legacy_transport', OLD.legacy_transport), n = JSON_SET(n, '$.legacy_transport', NEW.legacy_transport); END IF;
  IF NOT (BINARY OLD.relayhost <=> BINARY NEW.relayhost) THEN SET o = JSON_SET(o, '$.relayhost', OLD.relayhost), n = JSON_SET(n, '$.relayhost', NEW.relayhost); END IF;
  IF NOT (BINARY OLD.default_quota_bytes <=> BINARY NEW.default_quota_bytes) THEN SET o = JSON_SET(o, '$.default_quota_bytes', OLD.default_quota_bytes), n = JSON_SET(n, '$.default_quota_bytes', NEW.default_quota_bytes); END IF;
  IF NOT (BINARY OLD.dkim_selector <=> BINARY NEW.dkim_selector) THEN SET o = JSON_SET(o, '$.dkim_selector', OLD.dkim_selector), n = JSON_SET(n, '$.dkim_selector', NEW.dkim_selector); END IF;
  IF NOT (BINARY OLD.description <=> BINARY NEW.description) THEN SET o = JSON_SET(o, '$.description', OLD.description), n = JSON_SET(n, '$.description', NEW.description); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'domains', 'UPDATE', LEFT(NEW.name, 700), LEFT(NULL, 320), LEFT(NEW.name, 253), o, n);
  END IF;
END//
CREATE TRIGGER domains_audit_ad AFTER DELETE ON domains FOR EACH ROW FOLLOWS domains_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'domains', 'DELETE', LEFT(OLD.name, 700), LEFT(NULL, 320), LEFT(OLD.name, 253), JSON_OBJECT('name', OLD.name, 'kind', OLD.kind, 'alias_target', OLD.alias_target, 'transport', OLD.transport, 'legacy_transport', OLD.legacy_transport, 'relayhost', OLD.relayhost, 'default_quota_bytes', OLD.default_quota_bytes, 'dkim_selector', OLD.dkim_selector, 'description', OLD.description, 'active', OLD.active), NULL)//

CREATE TRIGGER mailboxes_audit_ai AFTER INSERT ON mailboxes FOR EACH ROW FOLLOWS mailboxes_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailboxes', 'INSERT', LEFT(NEW.address, 700), LEFT(NEW.address, 320), LEFT(NEW.domain, 253), NULL, JSON_OBJECT('id', NEW.id, 'local_part', NEW.local_part, 'domain', NEW.domain, 'address', NEW.address, 'display_name', NEW.display_name, 'password_hash', IF(NEW.password_hash IS NULL, NULL, '(set)'), 'quota_bytes', NEW.quota_bytes, 'volume', NEW.volume, 'migration_state', NEW.migration_state, 'transport', NEW.transport, 'relayhost', NEW.relayhost, 'active', NEW.active, 'owner', NEW.owner, 'dir_uuid', NEW.dir_uuid, 'dir_dn', NEW.dir_dn, 'home_address', NEW.home_address, 'state', NEW.state, 'state_since', NEW.state_since, 'state_reason', NEW.state_reason, 'grace_until', NEW.grace_until, 'notice_sent_at', NEW.notice_sent_at, 'reminder_sent_at', NEW.reminder_sent_at, 'closed_forward', NEW.closed_forward))//
CREATE TRIGGER mailboxes_audit_au AFTER UPDATE ON mailboxes FOR EACH ROW FOLLOWS mailboxes_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.local_part <=> BINARY NEW.local_part) THEN SET o = JSON_SET(o, '$.local_part', OLD.local_part), n = JSON_SET(n, '$.local_part', NEW.local_part); END IF;
  IF NOT (BINARY OLD.domain <=> BINARY NEW.domain) THEN SET o = JSON_SET(o, '$.domain', OLD.domain), n = JSON_SET(n, '$.domain', NEW.domain); END IF;
  IF NOT (BINARY OLD.address <=> BINARY NEW.address) THEN SET o = JSON_SET(o, '$.address', OLD.address), n = JSON_SET(n, '$.address', NEW.address); END IF;
  IF NOT (BINARY OLD.display_name <=> BINARY NEW.display_name) THEN SET o = JSON_SET(o, '$.display_name', OLD.display_name), n = JSON_SET(n, '$.display_name', NEW.display_name); END IF;
  IF NOT (BINARY OLD.password_hash <=> BINARY NEW.password_hash) THEN SET o = JSON_SET(o, '$.password_hash', IF(OLD.password_hash IS NULL, NULL, '(set)')), n = JSON_SET(n, '$.password_hash', IF(NEW.password_hash IS NULL, NULL, '(changed)')); END IF;
  IF NOT (BINARY OLD.quota_bytes <=> BINARY NEW.quota_bytes) THEN SET o = JSON_SET(o, '$.quota_bytes', OLD.quota_bytes), n = JSON_SET(n, '$.quota_bytes', NEW.quota_bytes); END IF;
  IF NOT (BINARY OLD.volume <=> BINARY NEW.volume) THEN SET o = JSON_SET(o, '$.volume', OLD.volume), n = JSON_SET(n, '$.volume', NEW.volume); END IF;
  IF NOT (BINARY OLD.migration_state <=> BINARY NEW.migration_state) THEN SET o = JSON_SET(o, '$.migration_state', OLD.migration_state), n = JSON_SET(n, '$.migration_state', NEW.migration_state); END IF;
  IF NOT (BINARY OLD.transport <=> BINARY NEW.transport) THEN SET o = JSON_SET(o, '$.transport', OLD.transport), n = JSON_SET(n, '$.transport', NEW.transport); END IF;
  IF NOT (BINARY OLD.relayhost <=> BINARY NEW.relayhost) THEN SET o = JSON_SET(o, '$.relayhost', OLD.relayhost), n = JSON_SET(n, '$.relayhost', NEW.relayhost); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF NOT (BINARY OLD.owner <=> BINARY NEW.owner) THEN SET o = JSON_SET(o, '$.owner', OLD.owner), n = JSON_SET(n, '$.owner', NEW.owner); END IF;
  IF NOT (BINARY OLD.dir_uuid <=> BINARY NEW.dir_uuid) THEN SET o = JSON_SET(o, '$.dir_uuid', OLD.dir_uuid), n = JSON_SET(n, '$.dir_uuid', NEW.dir_uuid); END IF;
  IF NOT (BINARY OLD.dir_dn <=> BINARY NEW.dir_dn) THEN SET o = JSON_SET(o, '$.dir_dn', OLD.dir_dn), n = JSON_SET(n, '$.dir_dn', NEW.dir_dn); END IF;
  IF NOT (BINARY OLD.home_address <=> BINARY NEW.home_address) THEN SET o = JSON_SET(o, '$.home_address', OLD.home_address), n = JSON_SET(n, '$.home_address', NEW.home_address); END IF;
  IF NOT (BINARY OLD.state <=> BINARY NEW.state) THEN SET o = JSON_SET(o, '$.state', OLD.state), n = JSON_SET(n, '$.state', NEW.state); END IF;
  IF NOT (BINARY OLD.state_since <=> BINARY NEW.state_since) THEN SET o = JSON_SET(o, '$.state_since', OLD.state_since), n = JSON_SET(n, '$.state_since', NEW.state_since); END IF;
  IF NOT (BINARY OLD.state_reason <=> BINARY NEW.state_reason) THEN SET o = JSON_SET(o, '$.state_reason', OLD.state_reason), n = JSON_SET(n, '$.state_reason', NEW.state_reason); END IF;
  IF NOT (BINARY OLD.grace_until <=> BINARY NEW.grace_until) THEN SET o = JSON_SET(o, '$.grace_until', OLD.grace_until), n = JSON_SET(n, '$.grace_until', NEW.grace_until); END IF;
  IF NOT (BINARY OLD.notice_sent_at <=> BINARY NEW.notice_sent_at) THEN SET o = JSON_SET(o, '$.notice_sent_at', OLD.notice_sent_at), n = JSON_SET(n, '$.notice_sent_at', NEW.notice_sent_at); END IF;
  IF NOT (BINARY OLD.reminder_sent_at <=> BINARY NEW.reminder_sent_at) THEN SET o = JSON_SET(o, '$.reminder_sent_at', OLD.reminder_sent_at), n = JSON_SET(n, '$.reminder_sent_at', NEW.reminder_sent_at); END IF;
  IF NOT (BINARY OLD.closed_forward <=> BINARY NEW.closed_forward) THEN SET o = JSON_SET(o, '$.closed_forward', OLD.closed_forward), n = JSON_SET(n, '$.closed_forward', NEW.closed_forward); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailboxes', 'UPDATE', LEFT(NEW.address, 700), LEFT(NEW.address, 320), LEFT(NEW.domain, 253), o, n);
  END IF;
END//
CREATE TRIGGER mailboxes_audit_ad AFTER DELETE ON mailboxes FOR EACH ROW FOLLOWS mailboxes_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'mailboxes', 'DELETE', LEFT(OLD.address, 700), LEFT(OLD.address, 320), LEFT(OLD.domain, 253), JSON_OBJECT('id', OLD.id, 'local_part', OLD.local_part, 'domain', OLD.domain, 'address', OLD.address, 'display_name', OLD.display_name, 'password_hash', IF(OLD.password_hash IS NULL, NULL, '(set)'), 'quota_bytes', OLD.quota_bytes, 'volume', OLD.volume, 'migration_state', OLD.migration_state, 'transport', OLD.transport, 'relayhost', OLD.relayhost, 'active', OLD.active, 'owner', OLD.owner, 'dir_uuid', OLD.dir_uuid, 'dir_dn', OLD.dir_dn, 'home_address', OLD.home_address, 'state', OLD.state, 'state_since', OLD.state_since, 'state_reason', OLD.state_reason, 'grace_until', OLD.grace_until, 'notice_sent_at', OLD.notice_sent_at, 'reminder_sent_at', OLD.reminder_sent_at, 'closed_forward', OLD.closed_forward), NULL)//

CREATE TRIGGER aliases_audit_ai AFTER INSERT ON aliases FOR EACH ROW FOLLOWS aliases_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'aliases', 'INSERT', LEFT(CONCAT(NEW.source, ' -> ', NEW.target), 700), LEFT(NEW.source, 320), LEFT(NEW.domain, 253), NULL, JSON_OBJECT('id', NEW.id, 'domain', NEW.domain, 'local_part', NEW.local_part, 'target', NEW.target, 'keep_copy', NEW.keep_copy, 'active', NEW.active, 'source', NEW.source, 'comment', NEW.comment, 'owner', NEW.owner, 'dir_uuid', NEW.dir_uuid, 'expires_at', NEW.expires_at))//
CREATE TRIGGER aliases_audit_au AFTER UPDATE ON aliases FOR EACH ROW FOLLOWS aliases_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.domain <=> BINARY NEW.domain) THEN SET o = JSON_SET(o, '$.domain', OLD.domain), n = JSON_SET(n, '$.domain', NEW.domain); END IF;
  IF NOT (BINARY OLD.local_part <=> BINARY NEW.local_part) THEN SET o = JSON_SET(o, '$.local_part', OLD.local_part), n = JSON_SET(n, '$.local_part', NEW.local_part); END IF;
  IF NOT (BINARY OLD.target <=> BINARY NEW.target) THEN SET o = JSON_SET(o, '$.target', OLD.target), n = JSON_SET(n, '$.target', NEW.target); END IF;
  IF NOT (BINARY OLD.keep_copy <=> BINARY NEW.keep_copy) THEN SET o = JSON_SET(o, '$.keep_copy', OLD.keep_copy), n = JSON_SET(n, '$.keep_copy', NEW.keep_copy); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF NOT (BINARY OLD.source <=> BINARY NEW.source) THEN SET o = JSON_SET(o, '$.source', OLD.source), n = JSON_SET(n, '$.source', NEW.source); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.owner <=> BINARY NEW.owner) THEN SET o = JSON_SET(o, '$.owner', OLD.owner), n = JSON_SET(n, '$.owner', NEW.owner); END IF;
  IF NOT (BINARY OLD.dir_uuid <=> BINARY NEW.dir_uuid) THEN SET o = JSON_SET(o, '$.dir_uuid', OLD.dir_uuid), n = JSON_SET(n, '$.dir_uuid', NEW.dir_uuid); END IF;
  IF NOT (BINARY OLD.expires_at <=> BINARY NEW.expires_at) THEN SET o = JSON_SET(o, '$.expires_at', OLD.expires_at), n = JSON_SET(n, '$.expires_at', NEW.expires_at); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'aliases', 'UPDATE', LEFT(CONCAT(NEW.source, ' -> ', NEW.target), 700), LEFT(NEW.source, 320), LEFT(NEW.domain, 253), o, n);
  END IF;
END//
CREATE TRIGGER aliases_audit_ad AFTER DELETE ON aliases FOR EACH ROW FOLLOWS aliases_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'aliases', 'DELETE', LEFT(CONCAT(OLD.source, ' -> ', OLD.target), 700), LEFT(OLD.source, 320), LEFT(OLD.domain, 253), JSON_OBJECT('id', OLD.id, 'domain', OLD.domain, 'local_part', OLD.local_part, 'target', OLD.target, 'keep_copy', OLD.keep_copy, 'active', OLD.active, 'source', OLD.source, 'comment', OLD.comment, 'owner', OLD.owner, 'dir_uuid', OLD.dir_uuid, 'expires_at', OLD.expires_at), NULL)//

CREATE TRIGGER transports_audit_ai AFTER INSERT ON transports FOR EACH ROW FOLLOWS transports_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'transports', 'INSERT', LEFT(CONCAT(NEW.purpose, ' ', NEW.match_type, ':', NEW.pattern), 700), LEFT(IF(NEW.match_type = 'address', NEW.pattern, NULL), 320), LEFT(CASE NEW.match_type WHEN 'domain' THEN TRIM(LEADING '.' FROM NEW.pattern) WHEN 'address' THEN SUBSTRING_INDEX(NEW.pattern, '@', -1) END, 253), NULL, JSON_OBJECT('id', NEW.id, 'match_type', NEW.match_type, 'pattern', NEW.pattern, 'purpose', NEW.purpose, 'transport', NEW.transport, 'comment', NEW.comment, 'active', NEW.active))//
CREATE TRIGGER transports_audit_au AFTER UPDATE ON transports FOR EACH ROW FOLLOWS transports_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.match_type <=> BINARY NEW.match_type) THEN SET o = JSON_SET(o, '$.match_type', OLD.match_type), n = JSON_SET(n, '$.match_type', NEW.match_type); END IF;
  IF NOT (BINARY OLD.pattern <=> BINARY NEW.pattern) THEN SET o = JSON_SET(o, '$.pattern', OLD.pattern), n = JSON_SET(n, '$.pattern', NEW.pattern); END IF;
  IF NOT (BINARY OLD.purpose <=> BINARY NEW.purpose) THEN SET o = JSON_SET(o, '$.purpose', OLD.purpose), n = JSON_SET(n, '$.purpose', NEW.purpose); END IF;
  IF NOT (BINARY OLD.transport <=> BINARY NEW.transport) THEN SET o = JSON_SET(o, '$.transport', OLD.transport), n = JSON_SET(n, '$.transport', NEW.transport); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'transports', 'UPDATE', LEFT(CONCAT(NEW.purpose, ' ', NEW.match_type, ':', NEW.pattern), 700), LEFT(IF(NEW.match_type = 'address', NEW.pattern, NULL), 320), LEFT(CASE NEW.match_type WHEN 'domain' THEN TRIM(LEADING '.' FROM NEW.pattern) WHEN 'address' THEN SUBSTRING_INDEX(NEW.pattern, '@', -1) END, 253), o, n);
  END IF;
END//
CREATE TRIGGER transports_audit_ad AFTER DELETE ON transports FOR EACH ROW FOLLOWS transports_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'transports', 'DELETE', LEFT(CONCAT(OLD.purpose, ' ', OLD.match_type, ':', OLD.pattern), 700), LEFT(IF(OLD.match_type = 'address', OLD.pattern, NULL), 320), LEFT(CASE OLD.match_type WHEN 'domain' THEN TRIM(LEADING '.' FROM OLD.pattern) WHEN 'address' THEN SUBSTRING_INDEX(OLD.pattern, '@', -1) END, 253), JSON_OBJECT('id', OLD.id, 'match_type', OLD.match_type, 'pattern', OLD.pattern, 'purpose', OLD.purpose, 'transport', OLD.transport, 'comment', OLD.comment, 'active', OLD.active), NULL)//

CREATE TRIGGER relayhosts_audit_ai AFTER INSERT ON relayhosts FOR EACH ROW FOLLOWS relayhosts_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'relayhosts', 'INSERT', LEFT(CONCAT(NEW.match_type, ':', NEW.pattern), 700), LEFT(IF(NEW.match_type = 'address', NEW.pattern, NULL), 320), LEFT(CASE NEW.match_type WHEN 'domain' THEN TRIM(LEADING '.' FROM NEW.pattern) WHEN 'address' THEN SUBSTRING_INDEX(NEW.pattern, '@', -1) END, 253), NULL, JSON_OBJECT('id', NEW.id, 'match_type', NEW.match_type, 'pattern', NEW.pattern, 'nexthop', NEW.nexthop, 'credential_ref', NEW.credential_ref, 'comment', NEW.comment, 'active', NEW.active))//
CREATE TRIGGER relayhosts_audit_au AFTER UPDATE ON relayhosts FOR EACH ROW FOLLOWS relayhosts_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.match_type <=> BINARY NEW.match_type) THEN SET o = JSON_SET(o, '$.match_type', OLD.match_type), n = JSON_SET(n, '$.match_type', NEW.match_type); END IF;
  IF NOT (BINARY OLD.pattern <=> BINARY NEW.pattern) THEN SET o = JSON_SET(o, '$.pattern', OLD.pattern), n = JSON_SET(n, '$.pattern', NEW.pattern); END IF;
  IF NOT (BINARY OLD.nexthop <=> BINARY NEW.nexthop) THEN SET o = JSON_SET(o, '$.nexthop', OLD.nexthop), n = JSON_SET(n, '$.nexthop', NEW.nexthop); END IF;
  IF NOT (BINARY OLD.credential_ref <=> BINARY NEW.credential_ref) THEN SET o = JSON_SET(o, '$.credential_ref', OLD.credential_ref), n = JSON_SET(n, '$.credential_ref', NEW.credential_ref); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'relayhosts', 'UPDATE', LEFT(CONCAT(NEW.match_type, ':', NEW.pattern), 700), LEFT(IF(NEW.match_type = 'address', NEW.pattern, NULL), 320), LEFT(CASE NEW.match_type WHEN 'domain' THEN TRIM(LEADING '.' FROM NEW.pattern) WHEN 'address' THEN SUBSTRING_INDEX(NEW.pattern, '@', -1) END, 253), o, n);
  END IF;
END//
CREATE TRIGGER relayhosts_audit_ad AFTER DELETE ON relayhosts FOR EACH ROW FOLLOWS relayhosts_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'relayhosts', 'DELETE', LEFT(CONCAT(OLD.match_type, ':', OLD.pattern), 700), LEFT(IF(OLD.match_type = 'address', OLD.pattern, NULL), 320), LEFT(CASE OLD.match_type WHEN 'domain' THEN TRIM(LEADING '.' FROM OLD.pattern) WHEN 'address' THEN SUBSTRING_INDEX(OLD.pattern, '@', -1) END, 253), JSON_OBJECT('id', OLD.id, 'match_type', OLD.match_type, 'pattern', OLD.pattern, 'nexthop', OLD.nexthop, 'credential_ref', OLD.credential_ref, 'comment', OLD.comment, 'active', OLD.active), NULL)//

CREATE TRIGGER sender_grants_audit_ai AFTER INSERT ON sender_grants FOR EACH ROW FOLLOWS sender_grants_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'sender_grants', 'INSERT', LEFT(CONCAT(NEW.login, ' as ', NEW.match_type, ':', NEW.pattern), 700), LEFT(NEW.login, 320), LEFT(SUBSTRING_INDEX(NEW.pattern, '@', -1), 253), NULL, JSON_OBJECT('id', NEW.id, 'login', NEW.login, 'match_type', NEW.match_type, 'pattern', NEW.pattern, 'comment', NEW.comment, 'active', NEW.active))//
CREATE TRIGGER sender_grants_audit_au AFTER UPDATE ON sender_grants FOR EACH ROW FOLLOWS sender_grants_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.login <=> BINARY NEW.login) THEN SET o = JSON_SET(o, '$.login', OLD.login), n = JSON_SET(n, '$.login', NEW.login); END IF;
  IF NOT (BINARY OLD.match_type <=> BINARY NEW.match_type) THEN SET o = JSON_SET(o, '$.match_type', OLD.match_type), n = JSON_SET(n, '$.match_type', NEW.match_type); END IF;
  IF NOT (BINARY OLD.pattern <=> BINARY NEW.pattern) THEN SET o = JSON_SET(o, '$.pattern', OLD.pattern), n = JSON_SET(n, '$.pattern', NEW.pattern); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'sender_grants', 'UPDATE', LEFT(CONCAT(NEW.login, ' as ', NEW.match_type, ':', NEW.pattern), 700), LEFT(NEW.login, 320), LEFT(SUBSTRING_INDEX(NEW.pattern, '@', -1), 253), o, n);
  END IF;
END//
CREATE TRIGGER sender_grants_audit_ad AFTER DELETE ON sender_grants FOR EACH ROW FOLLOWS sender_grants_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'sender_grants', 'DELETE', LEFT(CONCAT(OLD.login, ' as ', OLD.match_type, ':', OLD.pattern), 700), LEFT(OLD.login, 320), LEFT(SUBSTRING_INDEX(OLD.pattern, '@', -1), 253), JSON_OBJECT('id', OLD.id, 'login', OLD.login, 'match_type', OLD.match_type, 'pattern', OLD.pattern, 'comment', OLD.comment, 'active', OLD.active), NULL)//

CREATE TRIGGER dkim_keys_audit_ai AFTER INSERT ON dkim_keys FOR EACH ROW FOLLOWS dkim_keys_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'dkim_keys', 'INSERT', LEFT(CONCAT(NEW.selector, '._domainkey.', NEW.domain), 700), LEFT(NULL, 320), LEFT(NEW.domain, 253), NULL, JSON_OBJECT('id', NEW.id, 'domain', NEW.domain, 'selector', NEW.selector, 'algorithm', NEW.algorithm, 'key_path', NEW.key_path, 'comment', NEW.comment, 'active', NEW.active))//
CREATE TRIGGER dkim_keys_audit_au AFTER UPDATE ON dkim_keys FOR EACH ROW FOLLOWS dkim_keys_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.domain <=> BINARY NEW.domain) THEN SET o = JSON_SET(o, '$.domain', OLD.domain), n = JSON_SET(n, '$.domain', NEW.domain); END IF;
  IF NOT (BINARY OLD.selector <=> BINARY NEW.selector) THEN SET o = JSON_SET(o, '$.selector', OLD.selector), n = JSON_SET(n, '$.selector', NEW.selector); END IF;
  IF NOT (BINARY OLD.algorithm <=> BINARY NEW.algorithm) THEN SET o = JSON_SET(o, '$.algorithm', OLD.algorithm), n = JSON_SET(n, '$.algorithm', NEW.algorithm); END IF;
  IF NOT (BINARY OLD.key_path <=> BINARY NEW.key_path) THEN SET o = JSON_SET(o, '$.key_path', OLD.key_path), n = JSON_SET(n, '$.key_path', NEW.key_path); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'dkim_keys', 'UPDATE', LEFT(CONCAT(NEW.selector, '._domainkey.', NEW.domain), 700), LEFT(NULL, 320), LEFT(NEW.domain, 253), o, n);
  END IF;
END//
CREATE TRIGGER dkim_keys_audit_ad AFTER DELETE ON dkim_keys FOR EACH ROW FOLLOWS dkim_keys_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'dkim_keys', 'DELETE', LEFT(CONCAT(OLD.selector, '._domainkey.', OLD.domain), 700), LEFT(NULL, 320), LEFT(OLD.domain, 253), JSON_OBJECT('id', OLD.id, 'domain', OLD.domain, 'selector', OLD.selector, 'algorithm', OLD.algorithm, 'key_path', OLD.key_path, 'comment', OLD.comment, 'active', OLD.active), NULL)//

CREATE TRIGGER policy_groups_audit_ai AFTER INSERT ON policy_groups FOR EACH ROW FOLLOWS policy_groups_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_groups', 'INSERT', LEFT(NEW.name, 700), LEFT(NULL, 320), LEFT(NULL, 253), NULL, JSON_OBJECT('id', NEW.id, 'name', NEW.name, 'description', NEW.description))//
CREATE TRIGGER policy_groups_audit_au AFTER UPDATE ON policy_groups FOR EACH ROW FOLLOWS policy_groups_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.name <=> BINARY NEW.name) THEN SET o = JSON_SET(o, '$.name', OLD.name), n = JSON_SET(n, '$.name', NEW.name); END IF;
  IF NOT (BINARY OLD.description <=> BINARY NEW.description) THEN SET o = JSON_SET(o, '$.description', OLD.description), n = JSON_SET(n, '$.description', NEW.description); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_groups', 'UPDATE', LEFT(NEW.name, 700), LEFT(NULL, 320), LEFT(NULL, 253), o, n);
  END IF;
END//
CREATE TRIGGER policy_groups_audit_ad AFTER DELETE ON policy_groups FOR EACH ROW FOLLOWS policy_groups_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_groups', 'DELETE', LEFT(OLD.name, 700), LEFT(NULL, 320), LEFT(NULL, 253), JSON_OBJECT('id', OLD.id, 'name', OLD.name, 'description', OLD.description), NULL)//

CREATE TRIGGER policy_group_members_audit_ai AFTER INSERT ON policy_group_members FOR EACH ROW FOLLOWS policy_group_members_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_group_members', 'INSERT', LEFT(CONCAT('group#', NEW.group_id, ' ', NEW.member_type, ':', NEW.value), 700), LEFT(IF(NEW.member_type = 'address', NEW.value, NULL), 320), LEFT(CASE NEW.member_type WHEN 'domain' THEN TRIM(LEADING '.' FROM NEW.value) WHEN 'address' THEN SUBSTRING_INDEX(NEW.value, '@', -1) END, 253), NULL, JSON_OBJECT('id', NEW.id, 'group_id', NEW.group_id, 'member_type', NEW.member_type, 'value', NEW.value, 'comment', NEW.comment, 'owner', NEW.owner, 'dir_uuid', NEW.dir_uuid))//
CREATE TRIGGER policy_group_members_audit_au AFTER UPDATE ON policy_group_members FOR EACH ROW FOLLOWS policy_group_members_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.group_id <=> BINARY NEW.group_id) THEN SET o = JSON_SET(o, '$.group_id', OLD.group_id), n = JSON_SET(n, '$.group_id', NEW.group_id); END IF;
  IF NOT (BINARY OLD.member_type <=> BINARY NEW.member_type) THEN SET o = JSON_SET(o, '$.member_type', OLD.member_type), n = JSON_SET(n, '$.member_type', NEW.member_type); END IF;
  IF NOT (BINARY OLD.value <=> BINARY NEW.value) THEN SET o = JSON_SET(o, '$.value', OLD.value), n = JSON_SET(n, '$.value', NEW.value); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.owner <=> BINARY NEW.owner) THEN SET o = JSON_SET(o, '$.owner', OLD.owner), n = JSON_SET(n, '$.owner', NEW.owner); END IF;
  IF NOT (BINARY OLD.dir_uuid <=> BINARY NEW.dir_uuid) THEN SET o = JSON_SET(o, '$.dir_uuid', OLD.dir_uuid), n = JSON_SET(n, '$.dir_uuid', NEW.dir_uuid); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_group_members', 'UPDATE', LEFT(CONCAT('group#', NEW.group_id, ' ', NEW.member_type, ':', NEW.value), 700), LEFT(IF(NEW.member_type = 'address', NEW.value, NULL), 320), LEFT(CASE NEW.member_type WHEN 'domain' THEN TRIM(LEADING '.' FROM NEW.value) WHEN 'address' THEN SUBSTRING_INDEX(NEW.value, '@', -1) END, 253), o, n);
  END IF;
END//
CREATE TRIGGER policy_group_members_audit_ad AFTER DELETE ON policy_group_members FOR EACH ROW FOLLOWS policy_group_members_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_group_members', 'DELETE', LEFT(CONCAT('group#', OLD.group_id, ' ', OLD.member_type, ':', OLD.value), 700), LEFT(IF(OLD.member_type = 'address', OLD.value, NULL), 320), LEFT(CASE OLD.member_type WHEN 'domain' THEN TRIM(LEADING '.' FROM OLD.value) WHEN 'address' THEN SUBSTRING_INDEX(OLD.value, '@', -1) END, 253), JSON_OBJECT('id', OLD.id, 'group_id', OLD.group_id, 'member_type', OLD.member_type, 'value', OLD.value, 'comment', OLD.comment, 'owner', OLD.owner, 'dir_uuid', OLD.dir_uuid), NULL)//

CREATE TRIGGER sender_rules_audit_ai AFTER INSERT ON sender_rules FOR EACH ROW FOLLOWS sender_rules_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'sender_rules', 'INSERT', LEFT(NEW.name, 700), LEFT(NULL, 320), LEFT(NULL, 253), NULL, JSON_OBJECT('id', NEW.id, 'priority', NEW.priority, 'name', NEW.name, 'sender_group_id', NEW.sender_group_id, 'recipient_group_id', NEW.recipient_group_id, 'action', NEW.action, 'require_auth', NEW.require_auth, 'require_spf_pass', NEW.require_spf_pass, 'reject_text', NEW.reject_text, 'comment', NEW.comment, 'active', NEW.active))//
CREATE TRIGGER sender_rules_audit_au AFTER UPDATE ON sender_rules FOR EACH ROW FOLLOWS sender_rules_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.priority <=> BINARY NEW.priority) THEN SET o = JSON_SET(o, '$.priority', OLD.priority), n = JSON_SET(n, '$.priority', NEW.priority); END IF;
  IF NOT (BINARY OLD.name <=> BINARY NEW.name) THEN SET o = JSON_SET(o, '$.name', OLD.name), n = JSON_SET(n, '$.name', NEW.name); END IF;
  IF NOT (BINARY OLD.sender_group_id <=> BINARY NEW.sender_group_id) THEN SET o = JSON_SET(o, '$.sender_group_id', OLD.sender_group_id), n = JSON_SET(n, '$.sender_group_id', NEW.sender_group_id); END IF;
  IF NOT (BINARY OLD.recipient_group_id <=> BINARY NEW.recipient_group_id) THEN SET o = JSON_SET(o, '$.recipient_group_id', OLD.recipient_group_id), n = JSON_SET(n, '$.recipient_group_id', NEW.recipient_group_id); END IF;
  IF NOT (BINARY OLD.action <=> BINARY NEW.action) THEN SET o = JSON_SET(o, '$.action', OLD.action), n = JSON_SET(n, '$.action', NEW.action); END IF;
  IF NOT (BINARY OLD.require_auth <=> BINARY NEW.require_auth) THEN SET o = JSON_SET(o, '$.require_auth', OLD.require_auth), n = JSON_SET(n, '$.require_auth', NEW.require_auth); END IF;
  IF NOT (BINARY OLD.require_spf_pass <=> BINARY NEW.require_spf_pass) THEN SET o = JSON_SET(o, '$.require_spf_pass', OLD.require_spf_pass), n = JSON_SET(n, '$.require_spf_pass', NEW.require_spf_pass); END IF;
  IF NOT (BINARY OLD.reject_text <=> BINARY NEW.reject_text) THEN SET o = JSON_SET(o, '$.reject_text', OLD.reject_text), n = JSON_SET(n, '$.reject_text', NEW.reject_text); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'sender_rules', 'UPDATE', LEFT(NEW.name, 700), LEFT(NULL, 320), LEFT(NULL, 253), o, n);
  END IF;
END//
CREATE TRIGGER sender_rules_audit_ad AFTER DELETE ON sender_rules FOR EACH ROW FOLLOWS sender_rules_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'sender_rules', 'DELETE', LEFT(OLD.name, 700), LEFT(NULL, 320), LEFT(NULL, 253), JSON_OBJECT('id', OLD.id, 'priority', OLD.priority, 'name', OLD.name, 'sender_group_id', OLD.sender_group_id, 'recipient_group_id', OLD.recipient_group_id, 'action', OLD.action, 'require_auth', OLD.require_auth, 'require_spf_pass', OLD.require_spf_pass, 'reject_text', OLD.reject_text, 'comment', OLD.comment, 'active', OLD.active), NULL)//

CREATE TRIGGER group_send_rules_audit_ai AFTER INSERT ON group_send_rules FOR EACH ROW FOLLOWS group_send_rules_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_send_rules', 'INSERT', LEFT(NEW.group_address, 700), LEFT(NEW.group_address, 320), LEFT(SUBSTRING_INDEX(NEW.group_address, '@', -1), 253), NULL, JSON_OBJECT('id', NEW.id, 'group_address', NEW.group_address, 'may_send', NEW.may_send, 'require_auth', NEW.require_auth, 'reject_text', NEW.reject_text, 'description', NEW.description, 'active', NEW.active, 'owner', NEW.owner, 'dir_uuid', NEW.dir_uuid))//
CREATE TRIGGER group_send_rules_audit_au AFTER UPDATE ON group_send_rules FOR EACH ROW FOLLOWS group_send_rules_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.group_address <=> BINARY NEW.group_address) THEN SET o = JSON_SET(o, '$.group_address', OLD.group_address), n = JSON_SET(n, '$.group_address', NEW.group_address); END IF;
  IF NOT (BINARY OLD.may_send <=> BINARY NEW.may_send) THEN SET o = JSON_SET(o, '$.may_send', OLD.may_send), n = JSON_SET(n, '$.may_send', NEW.may_send); END IF;
  IF NOT (BINARY OLD.require_auth <=> BINARY NEW.require_auth) THEN SET o = JSON_SET(o, '$.require_auth', OLD.require_auth), n = JSON_SET(n, '$.require_auth', NEW.require_auth); END IF;
  IF NOT (BINARY OLD.reject_text <=> BINARY NEW.reject_text) THEN SET o = JSON_SET(o, '$.reject_text', OLD.reject_text), n = JSON_SET(n, '$.reject_text', NEW.reject_text); END IF;
  IF NOT (BINARY OLD.description <=> BINARY NEW.description) THEN SET o = JSON_SET(o, '$.description', OLD.description), n = JSON_SET(n, '$.description', NEW.description); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF NOT (BINARY OLD.owner <=> BINARY NEW.owner) THEN SET o = JSON_SET(o, '$.owner', OLD.owner), n = JSON_SET(n, '$.owner', NEW.owner); END IF;
  IF NOT (BINARY OLD.dir_uuid <=> BINARY NEW.dir_uuid) THEN SET o = JSON_SET(o, '$.dir_uuid', OLD.dir_uuid), n = JSON_SET(n, '$.dir_uuid', NEW.dir_uuid); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_send_rules', 'UPDATE', LEFT(NEW.group_address, 700), LEFT(NEW.group_address, 320), LEFT(SUBSTRING_INDEX(NEW.group_address, '@', -1), 253), o, n);
  END IF;
END//
CREATE TRIGGER group_send_rules_audit_ad AFTER DELETE ON group_send_rules FOR EACH ROW FOLLOWS group_send_rules_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_send_rules', 'DELETE', LEFT(OLD.group_address, 700), LEFT(OLD.group_address, 320), LEFT(SUBSTRING_INDEX(OLD.group_address, '@', -1), 253), JSON_OBJECT('id', OLD.id, 'group_address', OLD.group_address, 'may_send', OLD.may_send, 'require_auth', OLD.require_auth, 'reject_text', OLD.reject_text, 'description', OLD.description, 'active', OLD.active, 'owner', OLD.owner, 'dir_uuid', OLD.dir_uuid), NULL)//

CREATE TRIGGER group_send_allowed_audit_ai AFTER INSERT ON group_send_allowed FOR EACH ROW FOLLOWS group_send_allowed_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_send_allowed', 'INSERT', LEFT(CONCAT('rule#', NEW.rule_id, ' group#', NEW.policy_group_id), 700), LEFT(NULL, 320), LEFT(NULL, 253), NULL, JSON_OBJECT('rule_id', NEW.rule_id, 'policy_group_id', NEW.policy_group_id))//
CREATE TRIGGER group_send_allowed_audit_au AFTER UPDATE ON group_send_allowed FOR EACH ROW FOLLOWS group_send_allowed_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.rule_id <=> BINARY NEW.rule_id) THEN SET o = JSON_SET(o, '$.rule_id', OLD.rule_id), n = JSON_SET(n, '$.rule_id', NEW.rule_id); END IF;
  IF NOT (BINARY OLD.policy_group_id <=> BINARY NEW.policy_group_id) THEN SET o = JSON_SET(o, '$.policy_group_id', OLD.policy_group_id), n = JSON_SET(n, '$.policy_group_id', NEW.policy_group_id); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_send_allowed', 'UPDATE', LEFT(CONCAT('rule#', NEW.rule_id, ' group#', NEW.policy_group_id), 700), LEFT(NULL, 320), LEFT(NULL, 253), o, n);
  END IF;
END//
CREATE TRIGGER group_send_allowed_audit_ad AFTER DELETE ON group_send_allowed FOR EACH ROW FOLLOWS group_send_allowed_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'group_send_allowed', 'DELETE', LEFT(CONCAT('rule#', OLD.rule_id, ' group#', OLD.policy_group_id), 700), LEFT(NULL, 320), LEFT(NULL, 253), JSON_OBJECT('rule_id', OLD.rule_id, 'policy_group_id', OLD.policy_group_id), NULL)//

CREATE TRIGGER greylist_settings_audit_ai AFTER INSERT ON greylist_settings FOR EACH ROW FOLLOWS greylist_settings_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'greylist_settings', 'INSERT', LEFT(IFNULL(NEW.domain, '(default)'), 700), LEFT(NULL, 320), LEFT(NEW.domain, 253), NULL, JSON_OBJECT('id', NEW.id, 'domain', NEW.domain, 'enabled', NEW.enabled, 'delay_seconds', NEW.delay_seconds, 'retry_window_seconds', NEW.retry_window_seconds, 'expiry_seconds', NEW.expiry_seconds, 'auto_whitelist_after', NEW.auto_whitelist_after, 'ipv4_prefix', NEW.ipv4_prefix, 'ipv6_prefix', NEW.ipv6_prefix, 'add_header', NEW.add_header, 'spf_pool', NEW.spf_pool))//
CREATE TRIGGER greylist_settings_audit_au AFTER UPDATE ON greylist_settings FOR EACH ROW FOLLOWS greylist_settings_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.domain <=> BINARY NEW.domain) THEN SET o = JSON_SET(o, '$.domain', OLD.domain), n = JSON_SET(n, '$.domain', NEW.domain); END IF;
  IF NOT (BINARY OLD.enabled <=> BINARY NEW.enabled) THEN SET o = JSON_SET(o, '$.enabled', OLD.enabled), n = JSON_SET(n, '$.enabled', NEW.enabled); END IF;
  IF NOT (BINARY OLD.delay_seconds <=> BINARY NEW.delay_seconds) THEN SET o = JSON_SET(o, '$.delay_seconds', OLD.delay_seconds), n = JSON_SET(n, '$.delay_seconds', NEW.delay_seconds); END IF;
  IF NOT (BINARY OLD.retry_window_seconds <=> BINARY NEW.retry_window_seconds) THEN SET o = JSON_SET(o, '$.retry_window_seconds', OLD.retry_window_seconds), n = JSON_SET(n, '$.retry_window_seconds', NEW.retry_window_seconds); END IF;
  IF NOT (BINARY OLD.expiry_seconds <=> BINARY NEW.expiry_seconds) THEN SET o = JSON_SET(o, '$.expiry_seconds', OLD.expiry_seconds), n = JSON_SET(n, '$.expiry_seconds', NEW.expiry_seconds); END IF;
  IF NOT (BINARY OLD.auto_whitelist_after <=> BINARY NEW.auto_whitelist_after) THEN SET o = JSON_SET(o, '$.auto_whitelist_after', OLD.auto_whitelist_after), n = JSON_SET(n, '$.auto_whitelist_after', NEW.auto_whitelist_after); END IF;
  IF NOT (BINARY OLD.ipv4_prefix <=> BINARY NEW.ipv4_prefix) THEN SET o = JSON_SET(o, '$.ipv4_prefix', OLD.ipv4_prefix), n = JSON_SET(n, '$.ipv4_prefix', NEW.ipv4_prefix); END IF;
  IF NOT (BINARY OLD.ipv6_prefix <=> BINARY NEW.ipv6_prefix) THEN SET o = JSON_SET(o, '$.ipv6_prefix', OLD.ipv6_prefix), n = JSON_SET(n, '$.ipv6_prefix', NEW.ipv6_prefix); END IF;
  IF NOT (BINARY OLD.add_header <=> BINARY NEW.add_header) THEN SET o = JSON_SET(o, '$.add_header', OLD.add_header), n = JSON_SET(n, '$.add_header', NEW.add_header); END IF;
  IF NOT (BINARY OLD.spf_pool <=> BINARY NEW.spf_pool) THEN SET o = JSON_SET(o, '$.spf_pool', OLD.spf_pool), n = JSON_SET(n, '$.spf_pool', NEW.spf_pool); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'greylist_settings', 'UPDATE', LEFT(IFNULL(NEW.domain, '(default)'), 700), LEFT(NULL, 320), LEFT(NEW.domain, 253), o, n);
  END IF;
END//
CREATE TRIGGER greylist_settings_audit_ad AFTER DELETE ON greylist_settings FOR EACH ROW FOLLOWS greylist_settings_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'greylist_settings', 'DELETE', LEFT(IFNULL(OLD.domain, '(default)'), 700), LEFT(NULL, 320), LEFT(OLD.domain, 253), JSON_OBJECT('id', OLD.id, 'domain', OLD.domain, 'enabled', OLD.enabled, 'delay_seconds', OLD.delay_seconds, 'retry_window_seconds', OLD.retry_window_seconds, 'expiry_seconds', OLD.expiry_seconds, 'auto_whitelist_after', OLD.auto_whitelist_after, 'ipv4_prefix', OLD.ipv4_prefix, 'ipv6_prefix', OLD.ipv6_prefix, 'add_header', OLD.add_header, 'spf_pool', OLD.spf_pool), NULL)//

CREATE TRIGGER greylist_whitelist_audit_ai AFTER INSERT ON greylist_whitelist FOR EACH ROW FOLLOWS greylist_whitelist_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'greylist_whitelist', 'INSERT', LEFT(CONCAT(NEW.kind, ':', NEW.value), 700), LEFT(IF(NEW.kind IN ('sender_address', 'recipient'), NEW.value, NULL), 320), LEFT(CASE WHEN NEW.kind IN ('sender_domain', 'recipient_domain') THEN TRIM(LEADING '.' FROM NEW.value) WHEN NEW.kind IN ('sender_address', 'recipient') THEN SUBSTRING_INDEX(NEW.value, '@', -1) END, 253), NULL, JSON_OBJECT('id', NEW.id, 'kind', NEW.kind, 'value', NEW.value, 'comment', NEW.comment, 'active', NEW.active))//
CREATE TRIGGER greylist_whitelist_audit_au AFTER UPDATE ON greylist_whitelist FOR EACH ROW FOLLOWS greylist_whitelist_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.id <=> BINARY NEW.id) THEN SET o = JSON_SET(o, '$.id', OLD.id), n = JSON_SET(n, '$.id', NEW.id); END IF;
  IF NOT (BINARY OLD.kind <=> BINARY NEW.kind) THEN SET o = JSON_SET(o, '$.kind', OLD.kind), n = JSON_SET(n, '$.kind', NEW.kind); END IF;
  IF NOT (BINARY OLD.value <=> BINARY NEW.value) THEN SET o = JSON_SET(o, '$.value', OLD.value), n = JSON_SET(n, '$.value', NEW.value); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF NOT (BINARY OLD.active <=> BINARY NEW.active) THEN SET o = JSON_SET(o, '$.active', OLD.active), n = JSON_SET(n, '$.active', NEW.active); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'greylist_whitelist', 'UPDATE', LEFT(CONCAT(NEW.kind, ':', NEW.value), 700), LEFT(IF(NEW.kind IN ('sender_address', 'recipient'), NEW.value, NULL), 320), LEFT(CASE WHEN NEW.kind IN ('sender_domain', 'recipient_domain') THEN TRIM(LEADING '.' FROM NEW.value) WHEN NEW.kind IN ('sender_address', 'recipient') THEN SUBSTRING_INDEX(NEW.value, '@', -1) END, 253), o, n);
  END IF;
END//
CREATE TRIGGER greylist_whitelist_audit_ad AFTER DELETE ON greylist_whitelist FOR EACH ROW FOLLOWS greylist_whitelist_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'greylist_whitelist', 'DELETE', LEFT(CONCAT(OLD.kind, ':', OLD.value), 700), LEFT(IF(OLD.kind IN ('sender_address', 'recipient'), OLD.value, NULL), 320), LEFT(CASE WHEN OLD.kind IN ('sender_domain', 'recipient_domain') THEN TRIM(LEADING '.' FROM OLD.value) WHEN OLD.kind IN ('sender_address', 'recipient') THEN SUBSTRING_INDEX(OLD.value, '@', -1) END, 253), JSON_OBJECT('id', OLD.id, 'kind', OLD.kind, 'value', OLD.value, 'comment', OLD.comment, 'active', OLD.active), NULL)//

CREATE TRIGGER ratelimit_rules_audit_ai AFTER INSERT ON ratelimit_rules FOR EACH ROW FOLLOWS ratelimit_rules_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_rules', 'INSERT', LEFT(NEW.name, 700), LEFT(IF(NEW.match_value LIKE '%@%', NEW.match_value, NULL), 320), LEFT(IF(NEW.match_value LIKE '%@%', SUBSTRING_INDEX(NEW.match_value, '@', -1), NULL), 253), NULL, JSON_OBJECT('id', NEW.id, 'name', NEW.name, 'key_type', NEW.key_type, 'match_value', NEW.match_value, 'group_id', NEW.group_id, 'counts', NEW.counts, 'action', NEW.action, 'text', NEW.text, 'priority', NEW.priority, 'ipv4_prefix', NEW.ipv4_prefix, 'ipv6_prefix', NEW.ipv6_prefix, 'comment', NEW.comment, 'active', NEW.active))//
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
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_rules', 'UPDATE', LEFT(NEW.name, 700), LEFT(IF(NEW.match_value LIKE '%@%', NEW.match_value, NULL), 320), LEFT(IF(NEW.match_value LIKE '%@%', SUBSTRING_INDEX(NEW.match_value, '@', -1), NULL), 253), o, n);
  END IF;
END//
CREATE TRIGGER ratelimit_rules_audit_ad AFTER DELETE ON ratelimit_rules FOR EACH ROW FOLLOWS ratelimit_rules_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_rules', 'DELETE', LEFT(OLD.name, 700), LEFT(IF(OLD.match_value LIKE '%@%', OLD.match_value, NULL), 320), LEFT(IF(OLD.match_value LIKE '%@%', SUBSTRING_INDEX(OLD.match_value, '@', -1), NULL), 253), JSON_OBJECT('id', OLD.id, 'name', OLD.name, 'key_type', OLD.key_type, 'match_value', OLD.match_value, 'group_id', OLD.group_id, 'counts', OLD.counts, 'action', OLD.action, 'text', OLD.text, 'priority', OLD.priority, 'ipv4_prefix', OLD.ipv4_prefix, 'ipv6_prefix', OLD.ipv6_prefix, 'comment', OLD.comment, 'active', OLD.active), NULL)//

CREATE TRIGGER ratelimit_windows_audit_ai AFTER INSERT ON ratelimit_windows FOR EACH ROW FOLLOWS ratelimit_windows_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_windows', 'INSERT', LEFT(CONCAT('rule#', NEW.rule_id, ' ', NEW.window_seconds, 's'), 700), LEFT(NULL, 320), LEFT(NULL, 253), NULL, JSON_OBJECT('rule_id', NEW.rule_id, 'window_seconds', NEW.window_seconds, 'max_count', NEW.max_count))//
CREATE TRIGGER ratelimit_windows_audit_au AFTER UPDATE ON ratelimit_windows FOR EACH ROW FOLLOWS ratelimit_windows_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.rule_id <=> BINARY NEW.rule_id) THEN SET o = JSON_SET(o, '$.rule_id', OLD.rule_id), n = JSON_SET(n, '$.rule_id', NEW.rule_id); END IF;
  IF NOT (BINARY OLD.window_seconds <=> BINARY NEW.window_seconds) THEN SET o = JSON_SET(o, '$.window_seconds', OLD.window_seconds), n = JSON_SET(n, '$.window_seconds', NEW.window_seconds); END IF;
  IF NOT (BINARY OLD.max_count <=> BINARY NEW.max_count) THEN SET o = JSON_SET(o, '$.max_count', OLD.max_count), n = JSON_SET(n, '$.max_count', NEW.max_count); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_windows', 'UPDATE', LEFT(CONCAT('rule#', NEW.rule_id, ' ', NEW.window_seconds, 's'), 700), LEFT(NULL, 320), LEFT(NULL, 253), o, n);
  END IF;
END//
CREATE TRIGGER ratelimit_windows_audit_ad AFTER DELETE ON ratelimit_windows FOR EACH ROW FOLLOWS ratelimit_windows_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_windows', 'DELETE', LEFT(CONCAT('rule#', OLD.rule_id, ' ', OLD.window_seconds, 's'), 700), LEFT(NULL, 320), LEFT(NULL, 253), JSON_OBJECT('rule_id', OLD.rule_id, 'window_seconds', OLD.window_seconds, 'max_count', OLD.max_count), NULL)//

CREATE TRIGGER ratelimit_overrides_audit_ai AFTER INSERT ON ratelimit_overrides FOR EACH ROW FOLLOWS ratelimit_overrides_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_overrides', 'INSERT', LEFT(CONCAT('rule#', NEW.rule_id, ' ', NEW.key_value, ' ', NEW.window_seconds, 's'), 700), LEFT(IF(NEW.key_value LIKE '%@%', NEW.key_value, NULL), 320), LEFT(IF(NEW.key_value LIKE '%@%', SUBSTRING_INDEX(NEW.key_value, '@', -1), NULL), 253), NULL, JSON_OBJECT('rule_id', NEW.rule_id, 'key_value', NEW.key_value, 'window_seconds', NEW.window_seconds, 'max_count', NEW.max_count, 'comment', NEW.comment))//
CREATE TRIGGER ratelimit_overrides_audit_au AFTER UPDATE ON ratelimit_overrides FOR EACH ROW FOLLOWS ratelimit_overrides_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.rule_id <=> BINARY NEW.rule_id) THEN SET o = JSON_SET(o, '$.rule_id', OLD.rule_id), n = JSON_SET(n, '$.rule_id', NEW.rule_id); END IF;
  IF NOT (BINARY OLD.key_value <=> BINARY NEW.key_value) THEN SET o = JSON_SET(o, '$.key_value', OLD.key_value), n = JSON_SET(n, '$.key_value', NEW.key_value); END IF;
  IF NOT (BINARY OLD.window_seconds <=> BINARY NEW.window_seconds) THEN SET o = JSON_SET(o, '$.window_seconds', OLD.window_seconds), n = JSON_SET(n, '$.window_seconds', NEW.window_seconds); END IF;
  IF NOT (BINARY OLD.max_count <=> BINARY NEW.max_count) THEN SET o = JSON_SET(o, '$.max_count', OLD.max_count), n = JSON_SET(n, '$.max_count', NEW.max_count); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_overrides', 'UPDATE', LEFT(CONCAT('rule#', NEW.rule_id, ' ', NEW.key_value, ' ', NEW.window_seconds, 's'), 700), LEFT(IF(NEW.key_value LIKE '%@%', NEW.key_value, NULL), 320), LEFT(IF(NEW.key_value LIKE '%@%', SUBSTRING_INDEX(NEW.key_value, '@', -1), NULL), 253), o, n);
  END IF;
END//
CREATE TRIGGER ratelimit_overrides_audit_ad AFTER DELETE ON ratelimit_overrides FOR EACH ROW FOLLOWS ratelimit_overrides_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'ratelimit_overrides', 'DELETE', LEFT(CONCAT('rule#', OLD.rule_id, ' ', OLD.key_value, ' ', OLD.window_seconds, 's'), 700), LEFT(IF(OLD.key_value LIKE '%@%', OLD.key_value, NULL), 320), LEFT(IF(OLD.key_value LIKE '%@%', SUBSTRING_INDEX(OLD.key_value, '@', -1), NULL), 253), JSON_OBJECT('rule_id', OLD.rule_id, 'key_value', OLD.key_value, 'window_seconds', OLD.window_seconds, 'max_count', OLD.max_count, 'comment', OLD.comment), NULL)//

CREATE TRIGGER policy_domain_checks_audit_ai AFTER INSERT ON policy_domain_checks FOR EACH ROW FOLLOWS policy_domain_checks_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_domain_checks', 'INSERT', LEFT(NEW.domain, 700), LEFT(NULL, 320), LEFT(NEW.domain, 253), NULL, JSON_OBJECT('domain', NEW.domain, 'spf', NEW.spf, 'sender_rules', NEW.sender_rules, 'greylist', NEW.greylist, 'ratelimit', NEW.ratelimit, 'comment', NEW.comment))//
CREATE TRIGGER policy_domain_checks_audit_au AFTER UPDATE ON policy_domain_checks FOR EACH ROW FOLLOWS policy_domain_checks_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.domain <=> BINARY NEW.domain) THEN SET o = JSON_SET(o, '$.domain', OLD.domain), n = JSON_SET(n, '$.domain', NEW.domain); END IF;
  IF NOT (BINARY OLD.spf <=> BINARY NEW.spf) THEN SET o = JSON_SET(o, '$.spf', OLD.spf), n = JSON_SET(n, '$.spf', NEW.spf); END IF;
  IF NOT (BINARY OLD.sender_rules <=> BINARY NEW.sender_rules) THEN SET o = JSON_SET(o, '$.sender_rules', OLD.sender_rules), n = JSON_SET(n, '$.sender_rules', NEW.sender_rules); END IF;
  IF NOT (BINARY OLD.greylist <=> BINARY NEW.greylist) THEN SET o = JSON_SET(o, '$.greylist', OLD.greylist), n = JSON_SET(n, '$.greylist', NEW.greylist); END IF;
  IF NOT (BINARY OLD.ratelimit <=> BINARY NEW.ratelimit) THEN SET o = JSON_SET(o, '$.ratelimit', OLD.ratelimit), n = JSON_SET(n, '$.ratelimit', NEW.ratelimit); END IF;
  IF NOT (BINARY OLD.comment <=> BINARY NEW.comment) THEN SET o = JSON_SET(o, '$.comment', OLD.comment), n = JSON_SET(n, '$.comment', NEW.comment); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_domain_checks', 'UPDATE', LEFT(NEW.domain, 700), LEFT(NULL, 320), LEFT(NEW.domain, 253), o, n);
  END IF;
END//
CREATE TRIGGER policy_domain_checks_audit_ad AFTER DELETE ON policy_domain_checks FOR EACH ROW FOLLOWS policy_domain_checks_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'policy_domain_checks', 'DELETE', LEFT(OLD.domain, 700), LEFT(NULL, 320), LEFT(OLD.domain, 253), JSON_OBJECT('domain', OLD.domain, 'spf', OLD.spf, 'sender_rules', OLD.sender_rules, 'greylist', OLD.greylist, 'ratelimit', OLD.ratelimit, 'comment', OLD.comment), NULL)//

CREATE TRIGGER directory_groups_audit_ai AFTER INSERT ON directory_groups FOR EACH ROW FOLLOWS directory_groups_ai
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'directory_groups', 'INSERT', LEFT(IFNULL(NEW.address, NEW.dir_uuid), 700), LEFT(NEW.address, 320), LEFT(NEW.domain, 253), NULL, JSON_OBJECT('dir_uuid', NEW.dir_uuid, 'address', NEW.address, 'domain', NEW.domain, 'dn', NEW.dn, 'name', NEW.name, 'members', NEW.members))//
CREATE TRIGGER directory_groups_audit_au AFTER UPDATE ON directory_groups FOR EACH ROW FOLLOWS directory_groups_au BEGIN
  DECLARE o, n LONGTEXT DEFAULT '{}';
  IF NOT (BINARY OLD.dir_uuid <=> BINARY NEW.dir_uuid) THEN SET o = JSON_SET(o, '$.dir_uuid', OLD.dir_uuid), n = JSON_SET(n, '$.dir_uuid', NEW.dir_uuid); END IF;
  IF NOT (BINARY OLD.address <=> BINARY NEW.address) THEN SET o = JSON_SET(o, '$.address', OLD.address), n = JSON_SET(n, '$.address', NEW.address); END IF;
  IF NOT (BINARY OLD.domain <=> BINARY NEW.domain) THEN SET o = JSON_SET(o, '$.domain', OLD.domain), n = JSON_SET(n, '$.domain', NEW.domain); END IF;
  IF NOT (BINARY OLD.dn <=> BINARY NEW.dn) THEN SET o = JSON_SET(o, '$.dn', OLD.dn), n = JSON_SET(n, '$.dn', NEW.dn); END IF;
  IF NOT (BINARY OLD.name <=> BINARY NEW.name) THEN SET o = JSON_SET(o, '$.name', OLD.name), n = JSON_SET(n, '$.name', NEW.name); END IF;
  IF NOT (BINARY OLD.members <=> BINARY NEW.members) THEN SET o = JSON_SET(o, '$.members', OLD.members), n = JSON_SET(n, '$.members', NEW.members); END IF;
  IF o <> '{}' THEN
    INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'directory_groups', 'UPDATE', LEFT(IFNULL(NEW.address, NEW.dir_uuid), 700), LEFT(NEW.address, 320), LEFT(NEW.domain, 253), o, n);
  END IF;
END//
CREATE TRIGGER directory_groups_audit_ad AFTER DELETE ON directory_groups FOR EACH ROW FOLLOWS directory_groups_ad
  INSERT INTO audit_log (db_user, admin_user, table_name, op, row_key, address, domain, old_values, new_values)
    VALUES (LEFT(USER(), 384), LEFT(@postern_user, 80), 'directory_groups', 'DELETE', LEFT(IFNULL(OLD.address, OLD.dir_uuid), 700), LEFT(OLD.address, 320), LEFT(OLD.domain, 253), JSON_OBJECT('dir_uuid', OLD.dir_uuid, 'address', OLD.address, 'domain', OLD.domain, 'dn', OLD.dn, 'name', OLD.name, 'members', OLD.members), NULL)//

DELIMITER ;
