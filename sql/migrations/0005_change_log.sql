-- 0005_change_log: which rows of the routing tables changed, so that
-- postern-maps applies a change to one row without reloading every table
-- (lib/reloader.c, maps/delta.c; docs/dev/incremental-snapshots.md).
--
-- The triggers of domains, mailboxes, aliases, transports, relayhosts and
-- sender_grants keep bumping change_counter and now also write one
-- change_log row per changed row, numbered with the table's new
-- generation.  Because every writer of a table updates the same
-- change_counter row first, and holds its lock until commit, the
-- generations of one table become visible in order and without holes: a
-- reader that sees generation G of a table sees every change_log row of
-- that table up to G.  A reader that finds fewer rows than the
-- generations it missed (pruned, or written without these triggers)
-- loads everything instead.  Each trigger keeps the last 100,000 rows per
-- table (CHANGE_LOG_KEEP in lib/reloader.h names the same number).

CREATE TABLE change_log (
  tbl    VARCHAR(64) NOT NULL COMMENT 'the changed table (as in change_counter)',
  gen    BIGINT UNSIGNED NOT NULL COMMENT 'change_counter.generation of tbl this change made',
  pk     VARCHAR(320) NOT NULL COMMENT 'the key postern-maps indexes the row by, after the change (domains.name, mailboxes.address, aliases.source, sender_grants.pattern; transports and relayhosts: the pattern, the whole table is read again)',
  old_pk VARCHAR(320) NULL COMMENT 'the key before an UPDATE that changed it, else NULL',
  PRIMARY KEY (tbl, gen)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Cache invalidation, row by row: written by the triggers of the routing tables, read by postern-maps; never by hand';

DROP TRIGGER domains_ai;
DROP TRIGGER domains_au;
DROP TRIGGER domains_ad;
DROP TRIGGER mailboxes_ai;
DROP TRIGGER mailboxes_au;
DROP TRIGGER mailboxes_ad;
DROP TRIGGER aliases_ai;
DROP TRIGGER aliases_au;
DROP TRIGGER aliases_ad;
DROP TRIGGER transports_ai;
DROP TRIGGER transports_au;
DROP TRIGGER transports_ad;
DROP TRIGGER relayhosts_ai;
DROP TRIGGER relayhosts_au;
DROP TRIGGER relayhosts_ad;
DROP TRIGGER sender_grants_ai;
DROP TRIGGER sender_grants_au;
DROP TRIGGER sender_grants_ad;

-- Every trigger runs the same statements; only the table and the key
-- column differ.  gen < g - 100000 is a range on the primary key.
DELIMITER //

CREATE TRIGGER domains_ai AFTER INSERT ON domains FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'domains';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'domains';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('domains', g, NEW.name);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'domains' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER domains_au AFTER UPDATE ON domains FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'domains';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'domains';
  INSERT INTO change_log (tbl, gen, pk, old_pk) VALUES ('domains', g, NEW.name, NULLIF(OLD.name, NEW.name));
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'domains' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER domains_ad AFTER DELETE ON domains FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'domains';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'domains';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('domains', g, OLD.name);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'domains' AND gen < g - 100000; END IF;
END//

CREATE TRIGGER mailboxes_ai AFTER INSERT ON mailboxes FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'mailboxes';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'mailboxes';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('mailboxes', g, NEW.address);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'mailboxes' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER mailboxes_au AFTER UPDATE ON mailboxes FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'mailboxes';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'mailboxes';
  INSERT INTO change_log (tbl, gen, pk, old_pk) VALUES ('mailboxes', g, NEW.address, NULLIF(OLD.address, NEW.address));
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'mailboxes' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER mailboxes_ad AFTER DELETE ON mailboxes FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'mailboxes';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'mailboxes';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('mailboxes', g, OLD.address);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'mailboxes' AND gen < g - 100000; END IF;
END//

CREATE TRIGGER aliases_ai AFTER INSERT ON aliases FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'aliases';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'aliases';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('aliases', g, NEW.source);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'aliases' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER aliases_au AFTER UPDATE ON aliases FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'aliases';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'aliases';
  INSERT INTO change_log (tbl, gen, pk, old_pk) VALUES ('aliases', g, NEW.source, NULLIF(OLD.source, NEW.source));
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'aliases' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER aliases_ad AFTER DELETE ON aliases FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'aliases';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'aliases';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('aliases', g, OLD.source);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'aliases' AND gen < g - 100000; END IF;
END//

CREATE TRIGGER transports_ai AFTER INSERT ON transports FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'transports';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'transports';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('transports', g, NEW.pattern);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'transports' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER transports_au AFTER UPDATE ON transports FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'transports';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'transports';
  INSERT INTO change_log (tbl, gen, pk, old_pk) VALUES ('transports', g, NEW.pattern, NULLIF(OLD.pattern, NEW.pattern));
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'transports' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER transports_ad AFTER DELETE ON transports FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'transports';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'transports';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('transports', g, OLD.pattern);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'transports' AND gen < g - 100000; END IF;
END//

CREATE TRIGGER relayhosts_ai AFTER INSERT ON relayhosts FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'relayhosts';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'relayhosts';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('relayhosts', g, NEW.pattern);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'relayhosts' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER relayhosts_au AFTER UPDATE ON relayhosts FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'relayhosts';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'relayhosts';
  INSERT INTO change_log (tbl, gen, pk, old_pk) VALUES ('relayhosts', g, NEW.pattern, NULLIF(OLD.pattern, NEW.pattern));
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'relayhosts' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER relayhosts_ad AFTER DELETE ON relayhosts FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'relayhosts';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'relayhosts';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('relayhosts', g, OLD.pattern);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'relayhosts' AND gen < g - 100000; END IF;
END//

CREATE TRIGGER sender_grants_ai AFTER INSERT ON sender_grants FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_grants';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'sender_grants';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('sender_grants', g, NEW.pattern);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'sender_grants' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER sender_grants_au AFTER UPDATE ON sender_grants FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_grants';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'sender_grants';
  INSERT INTO change_log (tbl, gen, pk, old_pk) VALUES ('sender_grants', g, NEW.pattern, NULLIF(OLD.pattern, NEW.pattern));
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'sender_grants' AND gen < g - 100000; END IF;
END//
CREATE TRIGGER sender_grants_ad AFTER DELETE ON sender_grants FOR EACH ROW BEGIN
  DECLARE g BIGINT UNSIGNED;
  UPDATE change_counter SET generation = generation + 1 WHERE tbl = 'sender_grants';
  SELECT generation INTO g FROM change_counter WHERE tbl = 'sender_grants';
  INSERT INTO change_log (tbl, gen, pk) VALUES ('sender_grants', g, OLD.pattern);
  IF g > 100000 THEN DELETE FROM change_log WHERE tbl = 'sender_grants' AND gen < g - 100000; END IF;
END//

DELIMITER ;
