-- 0006_directory: people and groups from LDAP (postern-dirsync,
-- docs/directory.md).
--
-- A mailbox, alias, policy-group member or group send rule says which
-- source owns it (column owner):
-- 'sql' (admins, a provisioning system; the default, and every row that
-- existed before) or 'ldap' (postern-dirsync, which never touches a row it
-- does not own).  Directory rows are keyed by the entry's entryUUID, never
-- its DN: an account that moves to another school OU keeps its row, its
-- Maildir and its Sieve scripts.  A renamed account keeps its Maildir
-- through home_address.
--
-- Life cycle of a directory account (mailboxes.state): active -> leaving
-- (gone from the directory or disabled; mail still delivered; notice and
-- reminder sent; grace_until is the day it closes) -> closed (mail refused
-- with 550 5.2.1, or forwarded to closed_forward; sending refused) ->
-- purged (rows removed by an admin command; directory_log keeps the
-- record).  Group addresses of the directory are valid recipients through
-- directory_groups, with no mailbox row.

ALTER TABLE mailboxes
  ADD COLUMN owner ENUM('sql','ldap') NOT NULL DEFAULT 'sql'
      COMMENT 'who owns the row: sql = admins or provisioning; ldap = postern-dirsync (it never touches sql rows)' AFTER active,
  ADD COLUMN dir_uuid CHAR(36) CHARACTER SET ascii COLLATE ascii_general_ci NULL
      COMMENT 'owner=ldap: entryUUID of the directory entry, the key (never the DN)' AFTER owner,
  ADD COLUMN dir_dn VARCHAR(1024) NULL
      COMMENT 'owner=ldap: the DN last seen, for admins only (it changes when the account moves)' AFTER dir_uuid,
  ADD COLUMN home_address VARCHAR(320) NULL
      COMMENT 'the address the Maildir path is derived from when it is not address (a renamed account keeps its Maildir); NULL = address' AFTER dir_dn,
  ADD COLUMN state ENUM('active','leaving','closed') NOT NULL DEFAULT 'active'
      COMMENT 'life cycle: active; leaving = gone from the directory, mail still delivered until grace_until; closed = mail refused (550 5.2.1) or sent to closed_forward, sending refused' AFTER home_address,
  ADD COLUMN state_since TIMESTAMP NULL COMMENT 'when state last changed' AFTER state,
  ADD COLUMN state_reason VARCHAR(255) NULL COMMENT 'why state last changed (also in directory_log)' AFTER state_since,
  ADD COLUMN grace_until TIMESTAMP NULL COMMENT 'state=leaving: when the account closes' AFTER state_reason,
  ADD COLUMN notice_sent_at TIMESTAMP NULL COMMENT 'state=leaving: when the leaving notice was delivered to the mailbox' AFTER grace_until,
  ADD COLUMN reminder_sent_at TIMESTAMP NULL COMMENT 'state=leaving: when the reminder before the end was delivered' AFTER notice_sent_at,
  ADD COLUMN closed_forward VARCHAR(320) NULL
      COMMENT 'state=closed: forward incoming mail to this address instead of refusing it (set by an admin)' AFTER reminder_sent_at,
  ADD UNIQUE KEY mailboxes_dir_uuid (dir_uuid),
  ADD KEY mailboxes_state (state, grace_until),
  ADD CONSTRAINT mailboxes_dir_owner CHECK (owner <> 'ldap' OR dir_uuid IS NOT NULL),
  ADD CONSTRAINT mailboxes_dir_uuid_syntax CHECK (dir_uuid IS NULL OR dir_uuid REGEXP '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
  ADD CONSTRAINT mailboxes_home_address_syntax CHECK (home_address IS NULL OR (home_address = LOWER(home_address) COLLATE utf8mb4_bin AND home_address REGEXP '^[a-z0-9!#$%&''*+=?^_`{|}~-]+([.][a-z0-9!#$%&''*+=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')),
  ADD CONSTRAINT mailboxes_grace CHECK (state <> 'leaving' OR grace_until IS NOT NULL),
  ADD CONSTRAINT mailboxes_closed_forward_syntax CHECK (closed_forward IS NULL OR closed_forward REGEXP '^[^@[:space:][:cntrl:]]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$');

-- The Maildir path follows home_address when it is set.  Rows that exist
-- have none: their path is what it was.
ALTER TABLE mailboxes
  MODIFY COLUMN maildir VARCHAR(400) AS (CONCAT(volume, '/',
      LEFT(SHA2(IFNULL(home_address, CONCAT(local_part, '@', domain)), 256), 2), '/',
      LEFT(SHA2(IFNULL(home_address, CONCAT(local_part, '@', domain)), 256), 4), '/',
      IFNULL(home_address, CONCAT(local_part, '@', domain)), '/')) STORED
  COMMENT 'derived, never typed: volume/xx/xxxx/address/ relative to the mail root (xxxx = first hex digits of SHA-256 of the address; home_address instead when set)';

ALTER TABLE aliases
  ADD COLUMN owner ENUM('sql','ldap') NOT NULL DEFAULT 'sql'
      COMMENT 'who owns the row: sql = admins or provisioning; ldap = postern-dirsync (alternative addresses, forwards, an old address after a rename)' AFTER comment,
  ADD COLUMN dir_uuid CHAR(36) CHARACTER SET ascii COLLATE ascii_general_ci NULL
      COMMENT 'owner=ldap: entryUUID of the entry the row comes from' AFTER owner,
  ADD COLUMN expires_at TIMESTAMP NULL
      COMMENT 'owner=ldap: an old primary address kept after a rename, removed by postern-dirsync after this time; NULL = kept' AFTER dir_uuid,
  ADD KEY aliases_dir_uuid (dir_uuid),
  ADD CONSTRAINT aliases_dir_owner CHECK (owner <> 'ldap' OR dir_uuid IS NOT NULL);

ALTER TABLE policy_group_members
  ADD COLUMN owner ENUM('sql','ldap') NOT NULL DEFAULT 'sql'
      COMMENT 'who owns the row: ldap = postern-dirsync (members by directory attribute, UCS send restrictions)' AFTER comment,
  ADD COLUMN dir_uuid CHAR(36) CHARACTER SET ascii COLLATE ascii_general_ci NULL
      COMMENT 'owner=ldap: entryUUID of the entry that made this row' AFTER owner,
  ADD KEY policy_group_members_dir_uuid (dir_uuid);

ALTER TABLE group_send_rules
  ADD COLUMN owner ENUM('sql','ldap') NOT NULL DEFAULT 'sql'
      COMMENT 'ldap = made by postern-dirsync from univentionAllowedEmailUsers/Groups of the group entry; an sql row for the same address wins' AFTER active,
  ADD COLUMN dir_uuid CHAR(36) CHARACTER SET ascii COLLATE ascii_general_ci NULL
      COMMENT 'owner=ldap: entryUUID of the group entry' AFTER owner;

CREATE TABLE directory_groups (
  dir_uuid     CHAR(36) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL PRIMARY KEY
               COMMENT 'entryUUID of the directory group',
  address      VARCHAR(320) NOT NULL COMMENT 'the group''s mail address, lower-case',
  domain       VARCHAR(253) AS (SUBSTRING_INDEX(address, '@', -1)) STORED COMMENT 'derived',
  dn           VARCHAR(1024) NOT NULL COMMENT 'the DN last seen, for admins and for the milter''s expansion',
  name         VARCHAR(255) NULL COMMENT 'cn of the group',
  members      INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'direct member values seen at the last sync (information)',
  created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY directory_groups_address (address),
  CONSTRAINT fk_directory_groups_domain FOREIGN KEY (domain) REFERENCES domains (name),
  CONSTRAINT directory_groups_address_syntax CHECK (address = LOWER(address) COLLATE utf8mb4_bin AND address REGEXP '^[a-z0-9!#$%&''*+=?^_`{|}~-]+([.][a-z0-9!#$%&''*+=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?[.])+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Written by postern-dirsync: directory groups with a mail address; valid recipients in postern-maps (expanded by postern-milter)';

CREATE TABLE directory_sync (
  name            VARCHAR(64) NOT NULL PRIMARY KEY COMMENT 'the [directory] source name (one row per directory)',
  cookie          VARBINARY(1024) NULL COMMENT 'the RFC 4533 sync cookie of the last pass (information)',
  last_full_at    TIMESTAMP NULL COMMENT 'end of the last complete reconciliation (full refresh)',
  last_change_at  TIMESTAMP NULL COMMENT 'when the last change from the directory was written',
  persons         INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'directory persons with a mailbox at the last full pass',
  groups_count    INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'directory groups with an address at the last full pass',
  held            TINYINT(1) NOT NULL DEFAULT 0 COMMENT '1 = the mass-change guard holds leavers back (see directory_guard)',
  updated_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-dirsync): where each directory source stands';

CREATE TABLE directory_guard (
  id           INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  source_name  VARCHAR(64) NOT NULL COMMENT 'directory_sync.name',
  created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'when the guard stopped a pass',
  would_leave  INT UNSIGNED NOT NULL COMMENT 'accounts the pass would have moved out of active',
  active_total INT UNSIGNED NOT NULL COMMENT 'active directory accounts at the time',
  sample       TEXT NULL COMMENT 'some of the addresses concerned',
  confirmed_at TIMESTAMP NULL COMMENT 'set by an admin (postern-dirsync --confirm ID): the next pass may move up to would_leave accounts (plus the usual share)',
  applied_at   TIMESTAMP NULL COMMENT 'when a confirmed pass used it',
  KEY directory_guard_source (source_name, applied_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE: passes the mass-change guard stopped, and admins'' confirmations';

CREATE TABLE directory_log (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at         TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  dir_uuid   CHAR(36) CHARACTER SET ascii COLLATE ascii_general_ci NULL,
  address    VARCHAR(320) NOT NULL COMMENT 'the mailbox address at the time',
  old_state  VARCHAR(16) NULL COMMENT 'NULL for a new account',
  new_state  VARCHAR(16) NOT NULL COMMENT 'active, leaving, closed, purged, or renamed',
  reason     VARCHAR(255) NOT NULL,
  KEY directory_log_uuid (dir_uuid),
  KEY directory_log_address (address(191))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='STATE (written by postern-dirsync): every life-cycle change of a directory account, with its reason';

INSERT INTO change_counter (tbl) VALUES ('directory_groups');

DELIMITER //

CREATE TRIGGER directory_groups_ai AFTER INSERT ON directory_groups FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'directory_groups';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'directory_groups';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('directory_groups', g, NEW.address);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'directory_groups' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER directory_groups_au AFTER UPDATE ON directory_groups FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'directory_groups';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'directory_groups';
  INSERT INTO change_log (tbl, gen, pk, old_pk) VALUES ('directory_groups', g, NEW.address, NULLIF(OLD.address, NEW.address));
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'directory_groups' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER directory_groups_ad AFTER DELETE ON directory_groups FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'directory_groups';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'directory_groups';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('directory_groups', g, OLD.address);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'directory_groups' AND gen < g - 100000; END IF;
END//

DELIMITER ;
