#!/bin/bash
# milter-biggroup - group sizes the users have, with postern-milter's
# default limits (issue 16: "the default max_recipients = 1000 makes every
# message to a school-wide group of 2,000 fail with 452; defaults must fit
# a 2,000-member group and a 9,000-parent group").
#
# slapd gets the sample school plus 2,000 pupils and 9,000 parents, loaded
# offline (h_slapadd); the groups schule-alle@ (2,000 members) and eltern@
# (9,000) have no send rule.
# Through Postfix with the milter at its default settings, each message is
# accepted and reaches every member at the smarthost sink, each once.
# Before 2026-12-04 the default max_recipients = 1000 refused both.
set -u
cd "$(dirname "$0")/../.."
. tests/harness/harness.sh
h_init
h_start_slapd
h_start_mariadb
h_sql_file sql/schema.sql
h_start_smtp_sink smarthost
. tests/integration/milter-common.sh

GEN=$H_DIR/big.ldif
"$H_PYTHON" - "$GEN" "$H_LDAP_BASE" <<'PY'
import sys
out, base = sys.argv[1], sys.argv[2]
school = "ou=bns,ou=schools," + base
with open(out, "w") as f:
    f.write("dn: cn=big,cn=users,%s\nobjectClass: organizationalRole\ncn: big\n\n" % school)
    def users(prefix, n, title):
        dns = []
        for i in range(n):
            uid = "%s%05d" % (prefix, i)
            dn = "uid=%s,cn=big,cn=users,%s" % (uid, school)
            f.write("dn: %s\nobjectClass: inetOrgPerson\nobjectClass: extensibleObject\n"
                    "uid: %s\ncn: %s\nsn: %s\ntitle: %s\nmail: %s@bns.school.example\n"
                    "mailPrimaryAddress: %s@bns.school.example\n\n"
                    % (dn, uid, uid, uid, title, uid, uid))
            dns.append(dn)
        return dns
    parents = users("elter", 9000, "parent")
    pupils = users("kind", 2000, "student")
    for cn, mail, dns in (("bns-eltern", "eltern", parents), ("bns-schule-alle", "schule-alle", pupils)):
        if not dns:
            continue
        f.write("dn: cn=%s,cn=groups,%s\nobjectClass: groupOfNames\nobjectClass: extensibleObject\n"
                "cn: %s\nmailPrimaryAddress: %s@bns.school.example\n" % (cn, school, cn, mail))
        # UCS writes both; the milter reads uniqueMember.  Each attribute's
        # values together: slapadd -q stores interleaved ones as separate
        # attributes, and libldap then returns only the first value
        for attr in ("member", "uniqueMember"):
            for dn in dns:
                f.write("%s: %s\n" % (attr, dn))
        f.write("\n")
PY
t_ok "the accounts and big groups are loaded" h_slapadd "$GEN"

# the defaults: no max_recipients line, no LDAP limits
milter_conf "$MDIR/postern.conf" "group_domains = bns.school.example"
start_milter "$MDIR/postern.conf"
t_ok "milter starts with its default limits" milter_up
h_start_postfix - <<EOF
relayhost = [127.0.0.1]:$H_SINK_SMARTHOST_PORT
smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
milter_content_timeout = 300s
EOF

# sink_rcpts - every RCPT TO of every message at the smarthost, sorted
sink_rcpts() {
    cat "$H_SINK_SMARTHOST_DIR"/*.env 2>/dev/null | sed -n 's/^RCPT TO:<\(.*\)>$/\1/p' | sort
}

send outsider@example.org schule-alle@bns.school.example
t_match "a 2,000-member group is accepted with the defaults" '^DATA 250 ' "$r"
t_ok "all 2,000 pupils reach the smarthost" \
    h_wait_for 120 sh -c "[ \$(cat '$H_SINK_SMARTHOST_DIR'/*.env 2>/dev/null | grep -c '^RCPT TO:<kind') -ge 2000 ]"
t_eq "each pupil once" 2000 "$(sink_rcpts | grep '^kind' | sort -u | wc -l)"

send outsider@example.org eltern@bns.school.example
t_match "a 9,000-parent group is accepted with the defaults" '^DATA 250 ' "$r"
t_ok "all 9,000 parents reach the smarthost" \
    h_wait_for 300 sh -c "[ \$(cat '$H_SINK_SMARTHOST_DIR'/*.env 2>/dev/null | grep -c '^RCPT TO:<elter') -ge 9000 ]"
t_eq "each parent once" 9000 "$(sink_rcpts | grep '^elter' | sort -u | wc -l)"
t_not "the group addresses never reach the smarthost" \
    grep -rq '^RCPT TO:<\(eltern\|schule-alle\)@' "$H_SINK_SMARTHOST_DIR"
t_not "no expansion over the limit" grep -q 'over the limit' "$MDIR/milter.log"
t_summary
