-- rights.lua - who may send to a group, decided at RCPT time.
-- SQL (milter-proto.sh): 9a@bns.school.example may be written to by the
-- policy group bns-teachers (LDAP group lehrer@bns.school.example) only,
-- authenticated (require_auth = 1); lehrer@bns.school.example by its
-- members only.  A refusal is a reply code (550 5.7.1: the text and code
-- are checked in the milter log by milter-proto.sh).
dofile(DIR .. "/common.lua")

local conn = open("198.51.100.7", "submit.test.example")

-- a student, authenticated, to the class: refused; the message goes on
mail(conn, "QRIG1", "max.schueler", "<max.schueler@bns.school.example>")
expect("QRIG1: student -> 9a: refused with a reply code",
       mt.rcptto(conn, "<9a@bns.school.example>"), conn, SMFIR_REPLYCODE)
expect("QRIG1: ... another recipient of the same message: continue",
       mt.rcptto(conn, "<lena.schueler@bns.school.example>"), conn, SMFIR_CONTINUE)
local r = message(conn, {{"From", "max.schueler@bns.school.example"}})
check("QRIG1: the refused group is not expanded",
      not mt.eom_check(conn, MT_RCPTDELETE, "<9a@bns.school.example>") and
      not mt.eom_check(conn, MT_RCPTADD, "<max.schueler@bns.school.example>"))

-- a teacher, authenticated: passes
mail(conn, "QRIG2", "anna.lehrer", "<anna.lehrer@bns.school.example>")
expect("QRIG2: teacher (LDAP group via policy group) -> 9a: continue",
       mt.rcptto(conn, "<9a@bns.school.example>"), conn, SMFIR_CONTINUE)
r = message(conn, {{"From", "anna.lehrer@bns.school.example"}})
check("QRIG2: ... and 9a is expanded",
      mt.eom_check(conn, MT_RCPTADD, "<max.schueler@bns.school.example>"))

-- the teacher's address without authentication (forged): refused
mail(conn, "QRIG3", nil, "<anna.lehrer@bns.school.example>")
expect("QRIG3: forged teacher sender, not authenticated -> 9a: refused",
       mt.rcptto(conn, "<9a@bns.school.example>"), conn, SMFIR_REPLYCODE)
mt.abort(conn)

-- the SASL login decides, not the envelope sender
mail(conn, "QRIG4", "max.schueler", "<anna.lehrer@bns.school.example>")
expect("QRIG4: student logged in, teacher's envelope sender -> 9a: refused",
       mt.rcptto(conn, "<9a@bns.school.example>"), conn, SMFIR_REPLYCODE)
mt.abort(conn)

-- members only: a member passes, a non-member does not
mail(conn, "QRIG5", "bernd.lehrer", "<bernd.lehrer@bns.school.example>")
expect("QRIG5: member -> lehrer (members only): continue",
       mt.rcptto(conn, "<lehrer@bns.school.example>"), conn, SMFIR_CONTINUE)
expect("QRIG5: ... a group without a rule (9b): continue",
       mt.rcptto(conn, "<9b@bns.school.example>"), conn, SMFIR_CONTINUE)
mt.abort(conn)
mail(conn, "QRIG6", "lena.schueler", "<lena.schueler@bns.school.example>")
expect("QRIG6: non-member -> lehrer (members only): refused",
       mt.rcptto(conn, "<lehrer@bns.school.example>"), conn, SMFIR_REPLYCODE)
mt.abort(conn)

mt.disconnect(conn)
finish()
