#!/bin/bash
# lda-crash.sh - Maildir crash safety of postern-lda: SIGKILL the writer at
# random points while it delivers a large message fed from a slow pipe, and
# check after every kill that new/ and cur/ hold only whole messages (size
# equal to S= and to the full size, last line intact); tmp/ may hold a
# partial file, the spool directory nothing.
#
# Kill points (LDA_CRASH_ROUNDS rounds, default 36, in three kinds):
#   anywhere   uniform over the whole delivery (reading, spooling, writing)
#   in-write   once the tmp/ file exists, uniform over the write/fsync time
#   at-size    once the tmp/ file reached a random fraction of its size
# The run needs at least one kill that left a partial file in tmp/ (else it
# proved nothing) and none that left a partial file in new/ or cur/.
set -u
. "$(dirname "$0")/../harness/harness.sh"
BUILD=${BUILD:-build}
ROUNDS=${LDA_CRASH_ROUNDS:-36}
h_init
h_start_mariadb
t_ok "schema migrates" sql/migrate --no-defaults --socket="$H_DB_SOCKET" -uroot postern
h_sql "INSERT INTO domains (name, kind) VALUES ('lda.example', 'local');
       INSERT INTO mailboxes (local_part, domain) VALUES ('crash', 'lda.example');" || exit 1
MD=$H_DIR/mail/$(h_sql "SELECT maildir FROM mailboxes WHERE address = 'crash@lda.example'")
mkdir -p "$H_DIR/mail" "$H_DIR/spool"
CONF=$H_DIR/lda.conf
cat > "$CONF" <<EOC
[lda]
mail_root = $H_DIR/mail
temp_dir = $H_DIR/spool
spool_memory = 1M
hostname = mx1.test.example
fsync = yes
[database]
hosts = 127.0.0.1:$H_DB_PORT
user = $H_DB_USER
password_file = $H_DB_PASSWORD_FILE
EOC

# an 8 MB message whose last line is a marker
{
    printf 'Subject: crash test\nFrom: a@b.example\n\n'
    head -c 8000000 /dev/zero | tr '\0' 'c' | fold -w 78
    printf '\nEND-OF-MESSAGE\n'
} > "$H_DIR/big.eml"

"$H_PYTHON" - "$BUILD/postern-lda" "$CONF" "$H_DIR/big.eml" "$MD" "$H_DIR/spool" "$ROUNDS" \
    > "$H_DIR/crash.out" 2> "$H_DIR/crash.err" <<'PY'
import os, random, re, signal, subprocess, sys, threading, time

lda, conf, eml, md, spool, rounds = sys.argv[1:7]
rounds = int(rounds)
data = open(eml, "rb").read()
CHUNK = 512 * 1024

def feed(p):
    """a slow pipe: 512 KB every 10 ms"""
    try:
        for i in range(0, len(data), CHUNK):
            p.stdin.write(data[i:i + CHUNK])
            p.stdin.flush()
            time.sleep(0.01)
        p.stdin.close()
    except (BrokenPipeError, ValueError, OSError):
        pass

def start():
    p = subprocess.Popen([lda, "-c", conf, "-f", "a@b.example", "-a", "crash@lda.example"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    t = threading.Thread(target=feed, args=(p,))
    t.start()
    return p, t

def files(sub):
    d = os.path.join(md, sub)
    try:
        return [os.path.join(d, n) for n in os.listdir(d)]
    except FileNotFoundError:
        return []

def tmp_file():
    f = files("tmp")
    return f[0] if f else None

# calibration: three whole deliveries (timings of the phases)
t_total, t_write = [], []
for _ in range(3):
    t0 = time.time()
    p, t = start()
    seen = None
    while p.poll() is None:
        if seen is None and tmp_file():
            seen = time.time()
        time.sleep(0.0005)
    t.join()
    end = time.time()
    if p.returncode != 0:
        print("calibration delivery failed: exit %d" % p.returncode)
        sys.exit(1)
    t_total.append(end - t0)
    t_write.append(end - (seen or end))
full = [f for f in files("new")]
size = os.path.getsize(full[0])
print("full_size %d" % size)
print("t_total %.3f t_write %.3f" % (max(t_total), max(t_write)))
for f in full:
    os.unlink(f)

def check():
    """every file in new/ and cur/ is whole; returns the problems"""
    bad = []
    for f in files("new") + files("cur"):
        n = os.path.basename(f)
        m = re.search(r",S=(\d+)", n)
        st = os.path.getsize(f)
        with open(f, "rb") as fp:
            fp.seek(max(0, st - 15))
            tail = fp.read()
        if not m or int(m.group(1)) != st or st != size or tail != b"END-OF-MESSAGE\n":
            bad.append("%s size=%d" % (n, st))
    return bad

stats = {"delivered": 0, "nothing": 0, "tmp_partial": 0, "tmp_whole": 0,
         "violations": 0, "spool_left": 0, "exit_before_kill": 0}
kinds = ["anywhere", "in-write", "at-size"]
T, W = max(t_total), max(t_write)
for r in range(rounds):
    kind = kinds[r % 3]
    before = len(files("new"))
    p, t = start()
    t0 = time.time()
    if kind == "anywhere":
        time.sleep(random.uniform(0, T * 1.05))
    elif kind == "in-write":
        while tmp_file() is None and p.poll() is None and time.time() - t0 < 10 * T:
            time.sleep(0.0002)
        time.sleep(random.uniform(0, W))
    else:
        want = random.uniform(0.05, 0.95) * size
        while p.poll() is None and time.time() - t0 < 10 * T:
            f = tmp_file()
            try:
                if f and os.path.getsize(f) >= want:
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.0002)
    if p.poll() is not None:
        stats["exit_before_kill"] += 1
    else:
        p.send_signal(signal.SIGKILL)
    p.wait()
    t.join()
    after = len(files("new"))
    stats["delivered" if after > before else "nothing"] += after - before if after > before else 1
    for f in files("tmp"):
        if os.path.getsize(f) < size:
            stats["tmp_partial"] += 1
        else:
            stats["tmp_whole"] += 1
    bad = check()
    if bad or after - before not in (0, 1):
        stats["violations"] += 1
        print("violation in round %d (%s): %s" % (r, kind, ", ".join(bad)))
    if os.listdir(spool):
        stats["spool_left"] += 1
    for f in files("tmp") + files("new"):
        os.unlink(f)
for k, v in stats.items():
    print("%s %d" % (k, v))
PY
rc=$?
cat "$H_DIR/crash.out"
t_eq "kill driver ran" 0 "$rc"
get() { sed -n "s/^$1 //p" "$H_DIR/crash.out"; }
t_eq "$ROUNDS SIGKILLs: no partial message in new/ or cur/" 0 "$(get violations)"
t_ok "some kills struck mid-write (partial file in tmp/: $(get tmp_partial))" test "$(get tmp_partial)" -ge 1
t_ok "some rounds ended with nothing delivered ($(get nothing))" test "$(get nothing)" -ge 1
t_eq "the spool (temp_dir) never keeps a file" 0 "$(get spool_left)"
t_eq "no violation reported" "" "$(grep violation "$H_DIR/crash.out" | grep -v '^violations')"
out=$("$BUILD/postern-lda" -c "$CONF" -f a@b.example -a crash@lda.example < "$H_DIR/big.eml"); rc=$?
t_eq "after the kills: a normal delivery works" 0 "$rc"
t_eq "and lands whole in new/" "$(get full_size)" "$(stat -c %s "$(find "$MD/new" -type f | head -n 1)")"
t_summary
