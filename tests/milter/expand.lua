-- expand.lua - group recipients are replaced by their members at end of
-- message (nested groups, duplicates once, a plain recipient that is also
-- a member not added twice, the sender not copied, a cycle ends).
-- Directory: tests/harness/ldap/school.ldif.  Config: group_domains =
-- bns.school.example, no send rules for these groups.
dofile(DIR .. "/common.lua")

local conn = open("198.51.100.7", "submit.test.example")

-- message 1: a class, a nested group holding that class, and a plain
-- recipient who is a member of both
mail(conn, "QEXP1", "bernd.lehrer", "<bernd.lehrer@bns.school.example>")
expect("QEXP1: RCPT 9a (a class): continue",
       mt.rcptto(conn, "<9a@bns.school.example>"), conn, SMFIR_CONTINUE)
expect("QEXP1: RCPT alle-9 (nested: 9a and 9b): continue",
       mt.rcptto(conn, "<alle-9@bns.school.example>"), conn, SMFIR_CONTINUE)
expect("QEXP1: RCPT max.schueler (plain, also a member): continue",
       mt.rcptto(conn, "<max.schueler@bns.school.example>"), conn, SMFIR_CONTINUE)
local r = message(conn, {
    {"From", "Bernd Lehrer <bernd.lehrer@bns.school.example>"},
    {"To", "9a@bns.school.example, alle-9@bns.school.example"},
    {"Subject", "expansion"}})
check("QEXP1: end of message: continue", r == SMFIR_CONTINUE or r == SMFIR_ACCEPT,
      rname(r))
check("QEXP1: the class address is removed",
      mt.eom_check(conn, MT_RCPTDELETE, "<9a@bns.school.example>"))
check("QEXP1: the nested group address is removed",
      mt.eom_check(conn, MT_RCPTDELETE, "<alle-9@bns.school.example>"))
check("QEXP1: member lena.schueler added",
      mt.eom_check(conn, MT_RCPTADD, "<lena.schueler@bns.school.example>"))
check("QEXP1: member of the nested 9b, jonas.schueler, added",
      mt.eom_check(conn, MT_RCPTADD, "<jonas.schueler@bns.school.example>"))
check("QEXP1: the plain recipient max.schueler is not added again",
      not mt.eom_check(conn, MT_RCPTADD, "<max.schueler@bns.school.example>"))
check("QEXP1: the plain recipient is not removed",
      not mt.eom_check(conn, MT_RCPTDELETE, "<max.schueler@bns.school.example>"))
check("QEXP1: the sender is not added",
      not mt.eom_check(conn, MT_RCPTADD, "<bernd.lehrer@bns.school.example>"))

-- message 2 on the same session: a cycle (zyklus-a <-> zyklus-b)
mail(conn, "QEXP2", "anna.lehrer", "<anna.lehrer@bns.school.example>")
expect("QEXP2: RCPT zyklus-a (a cycle of two groups): continue",
       mt.rcptto(conn, "<zyklus-a@bns.school.example>"), conn, SMFIR_CONTINUE)
r = message(conn, {{"From", "anna.lehrer@bns.school.example"},
                   {"Subject", "cycle"}})
check("QEXP2: end of message: continue (the cycle ends)",
      r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, rname(r))
check("QEXP2: the group address is removed",
      mt.eom_check(conn, MT_RCPTDELETE, "<zyklus-a@bns.school.example>"))
check("QEXP2: bernd.lehrer (member of zyklus-b) added",
      mt.eom_check(conn, MT_RCPTADD, "<bernd.lehrer@bns.school.example>"))
check("QEXP2: the sender anna.lehrer is not added",
      not mt.eom_check(conn, MT_RCPTADD, "<anna.lehrer@bns.school.example>"))
check("QEXP2: the other group of the cycle is not added as an address",
      not mt.eom_check(conn, MT_RCPTADD, "<zyklus-b@bns.school.example>"))

-- message 3: no group at all: the envelope is left alone
mail(conn, "QEXP3", "anna.lehrer", "<anna.lehrer@bns.school.example>")
expect("QEXP3: RCPT a user: continue",
       mt.rcptto(conn, "<max.schueler@bns.school.example>"), conn, SMFIR_CONTINUE)
r = message(conn, {{"From", "anna.lehrer@bns.school.example"}})
check("QEXP3: no recipient added or removed",
      not mt.eom_check(conn, MT_RCPTADD, "<max.schueler@bns.school.example>") and
      not mt.eom_check(conn, MT_RCPTDELETE, "<max.schueler@bns.school.example>"))

mt.disconnect(conn)
finish()
