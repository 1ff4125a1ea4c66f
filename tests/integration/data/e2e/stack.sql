-- tests/integration/data/e2e/stack.sql - what the full-stack demo and the
-- end-to-end tests add to sql/sample-school.sql and sql/sample-isp.sql.
--
-- The LDAP sample directory (tests/harness/ldap/school.ldif) has its own
-- people: the members of the classes postern-milter expands.  They get
-- mailboxes here, so class mail is delivered by postern-lda.  Group
-- addresses are accepted by Postfix through a self-alias (the milter
-- replaces them with the members before the queue file is committed).

SET NAMES utf8mb4;

INSERT INTO mailboxes (local_part, domain, display_name, volume, migration_state) VALUES
  ('anna.lehrer',    'bns.school.example',    'Anna Lehrer',     'vol01', 'migrated'),
  ('bernd.lehrer',   'bns.school.example',    'Bernd Lehrer',    'vol02', 'migrated'),
  ('max.schueler',   'bns.school.example',    'Max Schüler (9a)', 'vol01', 'migrated'),
  ('lena.schueler',  'bns.school.example',    'Lena Schüler (9a)', 'vol02', 'migrated'),
  ('jonas.schueler', 'bns.school.example',    'Jonas Schüler (9b)', 'vol01', 'migrated'),
  ('tim.klein',      'bns.school.example',    'Tim Klein (5a)',  'vol02', 'migrated'),
  ('eltern.mueller', 'eltern.school.example', 'Eltern Müller',   'vol01', 'migrated'),
  ('eltern.klein',   'eltern.school.example', 'Eltern Klein',    'vol02', 'migrated'),
  ('paul.lehrer',    'gym.school.example',    'Paul Lehrer',     'vol01', 'migrated'),
  ('sara.schueler',  'gym.school.example',    'Sara Schüler',    'vol02', 'migrated');

-- class and group addresses of the LDAP directory: Postfix must accept
-- them before postern-milter replaces them with the members; postern-maps
-- knows nothing of LDAP, so each group address is a placeholder mailbox
-- (never delivered to: the milter removes it; milter down = tempfail).
-- aliases cannot do it (a self-alias is refused by aliases_target_not_self).
INSERT INTO mailboxes (local_part, domain, display_name, volume, migration_state) VALUES
  ('9a',          'bns.school.example', 'LDAP class 9a (postern-milter)',      'vol01', 'migrated'),
  ('9b',          'bns.school.example', 'LDAP class 9b (postern-milter)',      'vol01', 'migrated'),
  ('5a',          'bns.school.example', 'LDAP class 5a (postern-milter)',      'vol01', 'migrated'),
  ('alle-9',      'bns.school.example', 'LDAP group of groups (postern-milter)', 'vol01', 'migrated'),
  ('ag-robotics', 'bns.school.example', 'LDAP workgroup (postern-milter)',     'vol01', 'migrated'),
  ('lehrer',      'bns.school.example', 'LDAP teachers (postern-milter)',      'vol01', 'migrated'),
  ('7b',          'gym.school.example', 'LDAP class 7b (postern-milter)',      'vol01', 'migrated');

-- the LDAP teachers are teachers in the policy too
INSERT INTO policy_group_members (group_id, member_type, value, comment)
  SELECT id, 'address', 'anna.lehrer@bns.school.example', 'LDAP teacher' FROM policy_groups WHERE name = 'bns-teachers'
  UNION ALL SELECT id, 'address', 'bernd.lehrer@bns.school.example', 'LDAP teacher' FROM policy_groups WHERE name = 'bns-teachers'
  UNION ALL SELECT id, 'address', 'jonas.schueler@bns.school.example', 'LDAP student' FROM policy_groups WHERE name = 'school-students';

-- greylisting: short delay so a retry passes within the run; mail from the
-- partner domain outside.example is whitelisted (the scripted senders), so
-- only the greylisting scenario is delayed
UPDATE greylist_settings SET delay_seconds = 2, retry_window_seconds = 3600,
    auto_whitelist_after = 0 WHERE domain IS NULL;
INSERT INTO greylist_whitelist (kind, value, comment) VALUES
  ('sender_domain', 'outside.example', 'e2e: the scripted outside senders'),
  ('sender_domain', 'web-mail.example', 'e2e: replies from outside');

-- a compromised student account: 3 messages an hour instead of 100
INSERT INTO ratelimit_overrides (rule_id, key_value, window_seconds, max_count, comment)
  SELECT id, 'jonas.schueler@bns.school.example', 3600, 3, 'e2e: rate-limit scenario'
  FROM ratelimit_rules WHERE name = 'school-students-messages';

-- containment (docs/policyd.md "Containing a hijacked account"): a burst
-- rule marked contain, checked before the defer rule above (priority 5 <
-- 10), so it counts every message the defer rule sees.  For jonas (4 an
-- hour here, 200 for everyone else) the 4th message is still only
-- deferred by school-students-messages (tests/integration/e2e.sh asserts
-- that); the 5th goes over this rule: the login becomes receive-only
-- (550 5.7.1 account suspended), mail to it still arrives, and the
-- notices go to [policyd] contain_notify (e2e-lib.sh: it-support@) and
-- to jonas.  scripts/demo shows it; `postern contain clear` ends it.
INSERT INTO ratelimit_rules (name, key_type, match_value, group_id, counts, action, text, priority, contain, comment)
  SELECT 'school-students-burst', 'sasl_login', NULL, id, 'messages', 'reject', NULL, 5, 1,
         'e2e: a burst from a student account contains it'
  FROM policy_groups WHERE name = 'school-students';
INSERT INTO ratelimit_windows (rule_id, window_seconds, max_count)
  SELECT id, 3600, 200 FROM ratelimit_rules WHERE name = 'school-students-burst';
INSERT INTO ratelimit_overrides (rule_id, key_value, window_seconds, max_count, comment)
  SELECT id, 'jonas.schueler@bns.school.example', 3600, 4, 'e2e: containment scenario'
  FROM ratelimit_rules WHERE name = 'school-students-burst';

-- moderated group mail (docs/milter.md "Moderated groups"): the robotics
-- workgroup's members write to it directly; anyone else's mail is held in
-- Postfix's hold queue for its teacher anna.lehrer, who approves or
-- rejects by replying to moderate+TOKEN@bns.school.example ([milter]
-- moderation_address, e2e-lib.sh); `moderate` is a placeholder mailbox so
-- that Postfix accepts those replies (postern-milter takes and discards
-- them).
INSERT INTO group_send_rules (group_address, may_send, require_auth, reject_text, description) VALUES
  ('ag-robotics@bns.school.example', 'members', 1, NULL, 'e2e: robotics workgroup, moderated by its teacher');
INSERT INTO group_moderators (rule_id, moderator)
  SELECT id, 'anna.lehrer@bns.school.example' FROM group_send_rules
   WHERE group_address = 'ag-robotics@bns.school.example';
INSERT INTO mailboxes (local_part, domain, display_name, volume, migration_state) VALUES
  ('moderate', 'bns.school.example', 'moderation replies (postern-milter takes them)', 'vol01', 'migrated');
