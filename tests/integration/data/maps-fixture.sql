-- maps-fixture.sql - routing rows with exactly known answers for
-- tests/integration/maps.sh.  @SINK@ and @LEGACY@ are replaced by the test
-- with the ports of its loopback SMTP sinks.
INSERT INTO domains (name, kind, alias_target, transport, legacy_transport, relayhost, active) VALUES
  ('a.example',      'local',  NULL,        NULL, NULL, NULL, 1),
  ('b.example',      'local',  NULL,        NULL, NULL, '[relay-b.example]:25', 1),
  ('relay.example',  'relay',  NULL,        'relay:[127.0.0.1]:@SINK@', NULL, NULL, 1),
  ('relay2.example', 'relay',  NULL,        'relay:[mx.relay2.example]:25', NULL, NULL, 1),
  ('legacy.example', 'legacy', NULL,        NULL, 'smtp:[127.0.0.1]:@LEGACY@', NULL, 1),
  ('off.example',    'local',  NULL,        NULL, NULL, NULL, 0);
INSERT INTO domains (name, kind, alias_target) VALUES
  ('alias-a.example', 'alias', 'a.example');

INSERT INTO mailboxes (local_part, domain, display_name, volume, migration_state, transport, relayhost, active) VALUES
  ('alice', 'a.example', 'Alice', 'vol01', 'migrated', NULL, NULL, 1),
  ('bob',   'a.example', 'Bob',   'vol02', 'legacy',   NULL, NULL, 1),
  ('carol', 'a.example', 'Carol', 'vol01', 'migrated', 'smtp:[127.0.0.1]:2600', NULL, 1),
  ('dave',  'a.example', 'Dave',  'vol01', 'migrated', NULL, NULL, 0),
  ('frank', 'a.example', 'Frank', 'vol03', 'migrated', NULL, NULL, 1),
  ('gina',  'a.example', 'Gina',  'vol03', 'migrated', NULL, NULL, 1),
  ('info',  'b.example', 'Info',  'vol01', 'migrated', NULL, '[info-relay.example]:587', 1),
  ('eve',   'b.example', 'Eve',   'vol04', 'migrated', NULL, NULL, 1),
  ('zed',   'off.example', 'Zed', 'vol01', 'migrated', NULL, NULL, 1);

INSERT INTO aliases (domain, local_part, target, keep_copy, active) VALUES
  ('a.example', 'team',       'alice@a.example',            0, 1),
  ('a.example', 'team',       'bob@a.example',              0, 1),
  ('a.example', 'team',       'old@a.example',              0, 0),
  ('a.example', 'frank',      'frank@elsewhere.example',    1, 1),
  ('a.example', 'gina',       'gina@elsewhere.example',     0, 1),
  ('a.example', 'sales+vip',  'carol@a.example',            0, 1),
  ('a.example', 'sales',      'eve@b.example',              0, 1),
  ('a.example', 'owned',      'alice@a.example',            0, 1),
  ('b.example', NULL,         'info@b.example',             0, 1);

INSERT INTO transports (match_type, pattern, purpose, transport) VALUES
  ('default', '',                  'delivery', 'relay:[127.0.0.1]:@SINK@'),
  ('default', '',                  'local',    'postern-lda:'),
  ('default', '',                  'legacy',   'smtp:[127.0.0.1]:@LEGACY@'),
  ('address', 'special@a.example', 'delivery', 'smtp:[127.0.0.1]:2700'),
  ('domain',  '.sub.example',      'delivery', 'smtp:[sub-mx.example]:25');

INSERT INTO relayhosts (match_type, pattern, nexthop) VALUES
  ('default', '',                '[smarthost.example]:587'),
  ('domain',  'a.example',       '[relay-a.example]:587'),
  ('address', 'alice@a.example', '[alice-relay.example]:587');

INSERT INTO sender_grants (login, match_type, pattern) VALUES
  ('alice@a.example', 'address', 'office@a.example'),
  ('bob@a.example',   'domain',  'b.example'),
  ('eve@b.example',   'address', 'office@a.example');

-- per-domain overrides of the local and legacy routes, and a .parent relayhost
INSERT INTO domains (name, kind) VALUES ('c.example', 'local');
INSERT INTO mailboxes (local_part, domain, migration_state) VALUES
  ('cleg', 'c.example', 'legacy'), ('cnew', 'c.example', 'migrated');
INSERT INTO transports (match_type, pattern, purpose, transport) VALUES
  ('domain', 'c.example', 'legacy', 'smtp:[old-c.example]:25'),
  ('domain', 'c.example', 'local',  'lmtp:unix:private/c-store');
INSERT INTO relayhosts (match_type, pattern, nexthop) VALUES
  ('domain', '.corp.example', '[corp-relay.example]:587');
