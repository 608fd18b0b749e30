#!/bin/sh
# http.sh -- integration: the http plugin against tests/http-server.py on loopback: requests, every expectation, TLS, timeouts, Retry-After, rate limit, circuit breaker, secrets, 500 checks at once.
# By hand: top_builddir=/path/to/build sh tests/http.sh
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
PYTHON3=${PYTHON3:-python3}
command -v "$PYTHON3" >/dev/null 2>&1 || { echo "http: python3 not found: skipped"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "http: openssl not found: skipped"; exit 77; }
assay="$top_builddir/assay"
[ -x "$assay" ] || { echo "http: $assay not found (set top_builddir)"; exit 99; }

# Loopback only: a proxy from the environment would see our requests.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
NO_PROXY=127.0.0.1,localhost
export NO_PROXY

work=$(mktemp -d)
spid=
cleanup() {
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$spid" ] && kill $spid 2>/dev/null
	if [ -n "${HTTP_KEEP:-}" ]; then echo "http: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# ---- the server ------------------------------------------------------------

if ! openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >"$work/openssl.log" 2>&1; then
	cat "$work/openssl.log"
	echo "http: openssl cannot make a test certificate: skipped"
	exit 77
fi
# start_server NAME [OPTIONS...]: a server whose ports are in $work/NAME.ports.
start_server() {
	name=$1
	shift
	"$PYTHON3" "$top_srcdir/tests/http-server.py" "$@" >"$work/$name.ports" 2>"$work/$name.err" &
	spid="$spid $!"
	for _ in $(seq 100); do
		[ -s "$work/$name.ports" ] && return
		sleep 0.1
	done
}
start_server main --cert "$work/cert.pem" --key "$work/key.pem"
# What real servers also do: one request per connection.
start_server close --mode close
start_server http10 --mode 1.0
read -r P T <"$work/main.ports" && read -r PC <"$work/close.ports" && read -r P10 <"$work/http10.ports" ||
	{ cat "$work"/*.err; echo "http: the test servers did not start"; exit 99; }
base="http://127.0.0.1:$P"
tbase="https://127.0.0.1:$T"

# ---- helpers ---------------------------------------------------------------

now() { "$PYTHON3" -c 'import time; print(time.monotonic())'; }

# run NAME [assay options...]: runs $work/NAME.toml, JSON report in NAME.json.
run() {
	name=$1
	shift
	t0=$(now)
	"$assay" "$@" run "$work/$name.toml" --format json >"$work/$name.json" 2>"$work/$name.err"
	rc=$?
	t1=$(now)
	wall=$("$PYTHON3" -c "print(round($t1 - $t0, 3))")
}

cat >"$work/expect.py" <<'PY'
# expect.py FILE ID STATUS [SUBSTRING...] [--metric NAME[=VALUE]]... [--attempts N]
import json, sys
path, nid, status, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
try:
    nodes = {n["id"]: n for n in json.load(open(path))["nodes"]}
except ValueError:
    err = open(path[:-5] + ".err").read()
    sys.exit(f"{nid}: {path} is not a report; stderr:\n{err[:2000]}")
n = nodes.get(nid)
if n is None:
    sys.exit(f"{nid}: no such node in {path}")
errs = []
if n["status"] != status:
    errs.append(f"status {n['status']}, expected {status}")
i = 0
while i < len(rest):
    a = rest[i]
    if a == "--metric":
        name, _, value = rest[i + 1].partition("=")
        ms = {m["name"]: m for m in n["metrics"]}
        if name not in ms:
            errs.append(f"no metric {name}")
        elif value and float(ms[name]["value"]) != float(value):
            errs.append(f"metric {name} = {ms[name]['value']}, expected {value}")
        i += 2
        continue
    if a == "--attempts":
        if n["attempts"] != int(rest[i + 1]):
            errs.append(f"attempts {n['attempts']}, expected {rest[i + 1]}")
        i += 2
        continue
    if a not in n["message"]:
        errs.append(f"message lacks {a!r}")
    i += 1
if errs:
    sys.exit(f"{nid}: " + "; ".join(errs) + f"\n    message: {n['message']}")
PY

# expect NAME ID STATUS [SUBSTRING...] [--metric M[=V]] [--attempts N]
expect() {
	file=$1
	shift
	if "$PYTHON3" "$work/expect.py" "$work/$file.json" "$@"; then ok; else bad "$file"; fi
}

server_log() { "$PYTHON3" -c "import json, urllib.request; print(json.dumps(json.load(urllib.request.urlopen('$base/log?key=$1'))))"; }

# ---- requests and expectations -------------------------------------------------

printf '{"k": "from a file"}' >"$work/body.json"
cat >"$work/basic.toml" <<EOF
[runner]
timeout = "5s"
[plugins]
load = ["http"]

[check.ok]
type = "http"
url = "$base/status/200"
[check.s503]
type = "http"
url = "$base/status/503"
[check.list]
type = "http"
url = "$base/status/204"
expect = { status = [200, 204] }
[check.class_ok]
type = "http"
url = "$base/status/201"
expect = { status = "2xx" }
[check.class_fail]
type = "http"
url = "$base/status/404"
expect = { status = "2xx" }
[check.head]
type = "http"
method = "HEAD"
url = "$base/status/200"
[check.post]
type = "http"
method = "post"
url = "$base/echo"
body = "hello=1"
expect = { json = { method = "POST", body = "hello=1" } }
[check.put_file]
type = "http"
method = "PUT"
url = "$base/echo"
body_file = "body.json"
expect = { json = { method = "PUT", body = '{"k": "from a file"}' } }
[check.query]
type = "http"
url = "$base/echo"
query = { q = "a b&c", n = 5, on = true }
expect = { json = { query = "q=a%20b%26c&n=5&on=true" } }
[check.query_append]
type = "http"
url = "$base/echo?x=1"
query = { y = "2" }
expect = { json = { query = "x=1&y=2" } }
[check.headers_sent]
type = "http"
url = "$base/headers"
headers = { X-Custom = "v1", Accept = "application/json" }
expect = { json = { X-Custom = "v1", Accept = "application/json", User-Agent = { type = "string" } } }
[check.hdr_ok]
type = "http"
url = "$base/header?name=X-Thing&value=abcdef"
expect = { headers = { X-Thing = "bcd", Content-Type = "text/plain", Server = "" } }
[check.hdr_missing]
type = "http"
url = "$base/status/200"
expect = { headers = { X-Nope = "" } }
[check.hdr_mismatch]
type = "http"
url = "$base/header?name=X-Thing&value=abc"
expect = { headers = { X-Thing = "zzz" } }
[check.contains_ok]
type = "http"
url = "$base/json/basic"
expect = { body_contains = "assay" }
[check.contains_fail]
type = "http"
url = "$base/status/200"
expect = { body_contains = "nothere" }
[check.regex_ok]
type = "http"
url = "$base/json/basic"
expect = { body_regex = '"count": [0-9]+,' }
[check.regex_fail]
type = "http"
url = "$base/status/200"
expect = { body_regex = "^xyz" }
[check.json_ok]
type = "http"
url = "$base/json/basic"
[check.json_ok.expect.json]
enabled = true
count = 3
"items[1].name" = "b"
ratio = { ">" = 0.4, "<=" = 0.5 }
count2 = { exists = false }
tags = { length = 2, type = "array", equals = ["x", "y"] }
'nested["a.b"]' = "dotted"
"nested.deep.er[2]" = 30
nothing = { type = "null" }
name = { type = "string", length = 5 }
unicode = { length = 5, equals = "héllo" }
empty = { type = "object", length = 0 }
"items[0]" = { equals = { v = 1, name = "a" } }
"\$" = { type = "object" }
[check.json_fail]
type = "http"
url = "$base/json/basic"
[check.json_fail.expect.json]
enabled = false
count = { ">" = 5 }
"items[5].name" = "x"
name = { type = "number" }
tags = { length = 3 }
missing = { exists = true }
nothing = { exists = false }
"items[0]" = { equals = { name = "a", v = 2 } }
"name.first" = "x"
[check.json_invalid]
type = "http"
url = "$base/json/invalid"
expect = { json = { a = 1 } }
[check.json_array]
type = "http"
url = "$base/json/array"
expect = { json = { "[1]" = 2, "\$" = { length = 3 } } }
[check.redirect_nofollow]
type = "http"
url = "$base/redirect"
[check.redirect_200]
type = "http"
url = "$base/redirect"
expect = { status = 200 }
[check.redirect_follow]
type = "http"
url = "$base/redirect?n=3"
follow_redirects = true
expect = { status = 200 }
[check.too_many]
type = "http"
url = "$base/redirect?n=20"
follow_redirects = true
[check.drop]
type = "http"
url = "$base/drop"
[check.refused]
type = "http"
url = "http://127.0.0.1:1/"
[check.slow_body]
type = "http"
url = "$base/trickle?bytes=50&ms=100"
timeout = "500ms"
[check.delay_timeout]
type = "http"
url = "$base/delay?ms=3000"
timeout = "300ms"
[check.resp_warn]
type = "http"
url = "$base/delay?ms=300"
response_time = { warn = "100ms", crit = "2s" }
[check.resp_crit]
type = "http"
url = "$base/delay?ms=300"
response_time = { warn = "50ms", crit = "200ms" }
[check.all_fail]
type = "http"
url = "$base/status/500"
response_time = { warn = "1ms" }
expect = { status = 200, headers = { X-Nope = "" }, body_contains = "nothere", body_regex = "^xyz", json = { a = 1 } }
[check.tls_fail]
type = "http"
url = "$tbase/status/200"
[check.tls_ok]
type = "http"
url = "$tbase/status/200"
ca_file = "cert.pem"
[check.tls_insecure]
type = "http"
url = "$tbase/status/200"
insecure = true
[check.tls_insecure_fail]
type = "http"
url = "$tbase/status/500"
insecure = true

[validation.paths]
type = "http"
url = "$base{item}"
items = { list = ["/status/200", "/status/500", "/json/basic"] }
EOF
run basic
[ "$rc" -eq 2 ] && ok || bad "basic: exit status $rc, expected 2"
expect basic ok OK "HTTP 200 in" --metric status=200 --metric time_total --metric time_connect \
	--metric time_tls --metric ttfb --metric size=10
expect basic s503 CRITICAL "HTTP 503" "status 503, expected 2xx or 3xx" 'body "status 503"'
expect basic list OK "HTTP 204"
expect basic class_ok OK "HTTP 201"
expect basic class_fail CRITICAL "status 404, expected 2xx"
expect basic head OK "HTTP 200" --metric size=0
expect basic post OK
expect basic put_file OK
expect basic query OK
expect basic query_append OK
expect basic headers_sent OK
expect basic hdr_ok OK
expect basic hdr_missing CRITICAL "header X-Nope missing"
expect basic hdr_mismatch CRITICAL 'header X-Thing is "abc", expected it to contain "zzz"'
expect basic contains_ok OK
expect basic contains_fail CRITICAL 'body does not contain "nothere"' 'body "status 200"'
expect basic regex_ok OK
expect basic regex_fail CRITICAL 'body does not match /^xyz/'
expect basic json_ok OK
expect basic json_fail CRITICAL 'json enabled: expected false, got true' \
	'json count: expected > 5, got 3' \
	'json items[5].name: missing (`items` has 2 elements)' \
	'json name: expected type number, got a string "assay"' \
	'json tags: expected length 3, got 2' \
	'json missing: missing (the document has no member `missing`)' \
	'json nothing: expected to be absent, got null' \
	'json items[0]: expected {"name":"a","v":2}, got {"name":"a","v":1}' \
	'json name.first: missing (`name` is a string, not an object)'
expect basic json_invalid CRITICAL 'body is not JSON (it ends early, at byte 8)'
expect basic json_array OK
expect basic redirect_nofollow OK "HTTP 302"
expect basic redirect_200 CRITICAL "status 302, expected 200"
expect basic redirect_follow OK "HTTP 200"
expect basic too_many CRITICAL "too many redirects"
expect basic drop CRITICAL "request failed: Empty reply from server"
expect basic refused CRITICAL "cannot connect"
expect basic slow_body CRITICAL "timed out after 0.5 s"
expect basic delay_timeout CRITICAL "timed out after 0.3 s"
expect basic resp_warn WARNING "response time " "> 0.1 s (warn)"
expect basic resp_crit CRITICAL "> 0.2 s (crit)"
expect basic all_fail CRITICAL "status 500, expected 200" "header X-Nope missing" \
	'body does not contain "nothere"' "body does not match /^xyz/" "body is not JSON" \
	'body "status 500"' "s (warn)"
expect basic tls_fail CRITICAL "TLS certificate not verified" "ca_file"
expect basic tls_ok OK "HTTP 200"
expect basic tls_insecure WARNING "HTTP 200" "TLS was not verified (insecure = true)"
expect basic tls_insecure_fail CRITICAL "status 500" "TLS was not verified"
expect basic paths CRITICAL "1 of 3 items failed" "/status/500"
# The metrics: thresholds as perfdata ranges, TLS time only over TLS.
"$PYTHON3" - "$work/basic.json" <<'PY' && ok || bad "basic: metrics"
import json, sys
nodes = {n["id"]: n for n in json.load(open(sys.argv[1]))["nodes"]}
def m(node, name):
    return next(x for x in nodes[node]["metrics"] if x["name"] == name)
errs = []
t = m("resp_warn", "time_total")
if (t.get("warn"), t.get("crit"), t["unit"]) != ("0.1", "2", "s"):
    errs.append(f"resp_warn time_total: {t}")
if not 0.29 < t["value"] < 5:
    errs.append(f"resp_warn took {t['value']}")
if m("tls_ok", "time_tls")["value"] <= 0 or m("ok", "time_tls")["value"] != 0:
    errs.append("time_tls")
if m("ok", "size")["unit"] != "B" or m("ok", "status")["value"] != 200:
    errs.append("size/status")
if errs:
    sys.exit("; ".join(errs))
PY

# ---- Retry-After ---------------------------------------------------------------

cat >"$work/retry.toml" <<EOF
[plugins]
load = ["http"]
[check.seconds]
type = "http"
url = "$base/retry-after?key=ra1&n=2&after=1"
retries = 3
retry_delay = "10ms"
[check.date]
type = "http"
url = "$base/retry-after?key=ra2&n=1&after=2&date=1&code=503"
retries = 1
retry_delay = "10ms"
[check.no_header]
type = "http"
url = "$base/status/503?key=ra3"
retries = 1
retry_delay = "10ms"
EOF
run retry
expect retry seconds OK "HTTP 200" --attempts 3
expect retry date OK "HTTP 200" --attempts 2
expect retry no_header CRITICAL "status 503" --attempts 2
"$PYTHON3" - "$(server_log ra1)" "$(server_log ra2)" "$(server_log ra3)" <<'PY' && ok || bad "retry: Retry-After not honoured"
import json, sys
ra1, ra2, ra3 = (json.loads(a) for a in sys.argv[1:])
gaps1 = [b - a for a, b in zip(ra1, ra1[1:])]
gap2 = ra2[1] - ra2[0]
gap3 = ra3[1] - ra3[0]
print(f"    Retry-After: 1 s -> gaps {[round(g, 3) for g in gaps1]}; HTTP date +2 s -> {gap2:.3f} s; none -> {gap3:.3f} s")
# A date has whole seconds: "2 s from now" is 1 to 2 s away.
if len(ra1) != 3 or min(gaps1) < 0.99 or len(ra2) != 2 or gap2 < 0.99 or gap3 > 0.9:
    sys.exit(1)
PY

# ---- rate limit ------------------------------------------------------------------

{
	printf '[plugins]\nload = ["http"]\n'
	for i in 1 2 3 4 5; do
		printf '[check.n%d]\ntype = "http"\nurl = "%s/status/200?key=rl1"\nrate_limit = 10\n' "$i" "$base"
	done
} >"$work/rate.toml"
run rate
[ "$rc" -eq 0 ] && ok || bad "rate: exit status $rc"
"$PYTHON3" - "$wall" "$(server_log rl1)" <<'PY' && ok || bad "rate: 5 requests at 10/s took less than 0.4 s"
import json, sys
wall, times = float(sys.argv[1]), json.loads(sys.argv[2])
span = times[-1] - times[0]
print(f"    rate_limit = 10: 5 requests in {wall:.3f} s wall, {span:.3f} s from first to last at the server")
# The starts are 0.1 s apart; each request has a connection of its own
# when the one before is still busy, so on a loaded machine a slow
# connection can arrive late by about an interval.
sys.exit(0 if len(times) == 5 and wall >= 0.4 and span >= 0.3 else 1)
PY
# The same from [plugins.http], shared by nodes of two groups.
{
	printf '[plugins]\nload = ["http"]\n[plugins.http]\nrate_limit = 10\n'
	for i in 1 2 3; do
		printf '[check.a.n%d]\ntype = "http"\nurl = "%s/status/200?key=rl2"\n' "$i" "$base"
		printf '[check.b.n%d]\ntype = "http"\nurl = "%s/status/200?key=rl2"\n' "$i" "$base"
	done
} >"$work/rate2.toml"
run rate2
"$PYTHON3" - "$wall" "$(server_log rl2)" <<'PY' && ok || bad "rate2: [plugins.http] rate_limit not applied"
import json, sys
wall, times = float(sys.argv[1]), json.loads(sys.argv[2])
print(f"    [plugins.http] rate_limit = 10: 6 requests in {wall:.3f} s")
sys.exit(0 if len(times) == 6 and times[-1] - times[0] >= 0.4 else 1)
PY

# ---- circuit breaker ---------------------------------------------------------------

cat >"$work/circuit.toml" <<EOF
[plugins]
load = ["http"]
[plugins.http]
circuit_breaker = 2
[check.cb1]
type = "http"
url = "$base/status/500?key=cb"
[check.cb2]
type = "http"
url = "$base/drop?key=cb"
after = ["cb1"]
run_if = "always"
[check.cb3]
type = "http"
url = "$base/status/200?key=cb3"
after = ["cb2"]
run_if = "always"
[check.cb4]
type = "http"
url = "$base/json/basic?key=cb4"
after = ["cb3"]
run_if = "always"
[check.other_host]
type = "http"
url = "http://localhost:$P/status/200?key=cb-other"
after = ["cb4"]
run_if = "always"
[check.no_breaker]
type = "http"
url = "$base/status/200?key=cb-none"
circuit_breaker = 0
after = ["cb4"]
run_if = "always"
EOF
run circuit
expect circuit cb1 CRITICAL "status 500"
expect circuit cb2 CRITICAL "Empty reply"
expect circuit cb3 CRITICAL "circuit open for http://127.0.0.1:$P after 2 failures"
expect circuit cb4 CRITICAL "circuit open for"
expect circuit other_host OK
expect circuit no_breaker OK
"$PYTHON3" - "$(server_log cb3)" "$(server_log cb4)" <<'PY' && ok || bad "circuit: requests were sent while open"
import json, sys
sys.exit(0 if json.loads(sys.argv[1]) == json.loads(sys.argv[2]) == [] else 1)
PY

# ---- SIGINT: a pending request is cancelled at once -------------------------------

cat >"$work/sigint.toml" <<EOF
[plugins]
load = ["http"]
[check.long]
type = "http"
url = "$base/delay?ms=10000"
EOF
"$assay" run "$work/sigint.toml" --format json >"$work/sigint.json" 2>"$work/sigint.err" &
apid=$!
sleep 0.5
t0=$(now)
kill -INT "$apid"
wait "$apid"
t1=$(now)
"$PYTHON3" -c "import sys; sys.exit(0 if $t1 - $t0 < 2 else 1)" && ok || bad "sigint: took over 2 s to stop"
expect sigint long UNKNOWN "cancelled"

# ---- secrets: never in any output ----------------------------------------------------

HTTP_TEST_TOKEN='tok-s3cret-91x'
HTTP_TEST_QUERY='q s3cret/&=42'
HTTP_TEST_PUBLIC='pub-tok-5150' # said public, but an Authorization header is never shown
export HTTP_TEST_TOKEN HTTP_TEST_QUERY HTTP_TEST_PUBLIC
cat >"$work/secrets.toml" <<EOF
[plugins]
load = ["http"]
[check.bearer]
type = "http"
url = "$base/echo"
headers = { Authorization = "Bearer \${env:HTTP_TEST_TOKEN}" }
expect = { body_contains = "never-there" }
[check.literal]
type = "http"
url = "$base/echo"
headers = { Authorization = "Basic bGl0ZXJhbDpwYXNzd29yZA==", Cookie = "session=cookie-val-777", Proxy-Authorization = "Basic cHJveHk6cHc5OTk=" }
expect = { body_contains = "never-there", headers = { X-Echo = "x" } }
[check.cookie]
type = "http"
url = "$base/headers"
headers = { Cookie = "session=cookie-val-777" }
expect = { json = { Cookie = "other" } }
[check.userinfo]
type = "http"
url = "http://alice:pw-literal-555@127.0.0.1:$P/echo"
expect = { json = { "headers.Authorization" = "wrong" } }
[check.in_url]
type = "http"
url = "$base/echo?api_key=\${env:HTTP_TEST_TOKEN}"
expect = { status = 201 }
[check.in_query]
type = "http"
url = "$base/echo"
query = { token = "\${env:HTTP_TEST_QUERY}" }
expect = { body_contains = "never-there" }
[check.in_header_json]
type = "http"
url = "$base/headers"
headers = { X-Api-Key = "\${env:HTTP_TEST_TOKEN}" }
expect = { json = { X-Api-Key = "other" } }
[check.public_auth]
type = "http"
url = "$base/echo"
headers = { Authorization = "Bearer \${public-env:HTTP_TEST_PUBLIC}" }
expect = { body_contains = "never-there" }
[check.secret_expect]
type = "http"
url = "$base/echo"
expect = { body_contains = "\${env:HTTP_TEST_TOKEN}", json = { method = "\${env:HTTP_TEST_TOKEN}" } }
EOF
# The body is quoted cut at 200 bytes: with the padding before it growing
# a byte at a time, the cut falls inside the secret for some of these.
for i in $(seq 0 40); do
	printf '[check.cut%d]\ntype = "http"\nurl = "%s/headers"\nexpect = { status = 201 }\n' "$i" "$base"
	printf 'headers = { X-Pad = "%s", X-Api-Key = "${env:HTTP_TEST_TOKEN}" }\n' "$(printf "%$((50 + i))s" "" | tr ' ' p)"
done >>"$work/secrets.toml"
"$assay" -v -v run "$work/secrets.toml" >"$work/s-human" 2>"$work/s-human.err"
"$assay" -v -v run "$work/secrets.toml" --format json --report "json:$work/s-report.json" \
	>"$work/s-json" 2>"$work/s-json.err"
"$assay" check-config "$work/secrets.toml" >"$work/s-cc" 2>&1
"$assay" run "$work/secrets.toml" --dry-run >"$work/s-dry" 2>&1
# The requests happened, with their credentials: the echoes carry them.
grep -q 'bearer.*CRITICAL\|CRITICAL.*bearer' "$work/s-human" && ok || bad "secrets: the bearer check did not run"
grep -q -F 'Authorization\": \"***\"' "$work/s-human" && ok || bad "secrets: the echoed Authorization is not shown scrubbed"
grep -q -F 'json Cookie: expected "other", got "***"' "$work/s-human" && ok || bad "secrets: the echoed Cookie is not shown scrubbed"
grep -q -F '"query\": \"token=***\"' "$work/s-human" && ok || bad "secrets: the echoed query is not shown scrubbed"
grep -q -F '"X-Api-Key\": \"***' "$work/s-human" && ok || bad "secrets: no cut body shows the masked X-Api-Key"
grep -q 'public_auth.*Authorization\\": \\"\*\*\*' "$work/s-human" && ok ||
	bad "secrets: the echoed Authorization from \${public-env:} is not shown masked"
leaks=0
for f in s-human s-human.err s-json s-json.err s-report.json s-cc s-dry; do
	# tok- and 91x: what a cut would leave of the token.
	for s in tok-s3cret-91x s3cret tok- 91x pub-tok-5150 'q%20s'  bGl0ZXJhbDpwYXNzd29yZA== cookie-val-777 \
		 cHJveHk6cHc5OTk= pw-literal-555 YWxpY2U6cHctbGl0ZXJhbC01NTU=; do
		if grep -n -i -F -e "$s" "$work/$f"; then
			bad "secrets: \`$s\` leaked into $f"
			leaks=1
		fi
	done
done
[ "$leaks" -eq 0 ] && ok

# ---- configuration errors -------------------------------------------------------

cat >"$work/bad.toml" <<EOF
[plugins]
load = ["http"]
[check.no_url]
type = "http"
[check.bad]
type = "http"
url = "ftp://example.com/"
method = "GE T"
headers = { "Bad Name" = "x", X-Ok = 5 }
follow_redirects = "yes"
connect_timeout = "soon"
ca_file = "/nonexistent/ca.pem"
rate_limit = -1
circuit_breaker = 1.5
body = "a"
body_file = "body.json"
response_time = { warn = "2s", crit = "1s" }
[check.bad.expect]
status = [200, "6xx", 700]
body_regex = "a("
json = { "a..b" = 1, r = { "<" = "oops" }, c = { exist = true }, d = { exists = false, type = "string" }, e = { type = "text" } }
statuz = 1
[check.bad_item]
type = "http"
url = "$base/{nope}"
EOF
"$assay" check-config "$work/bad.toml" >"$work/bad.out" 2>&1
rc=$?
[ "$rc" -eq 78 ] && ok || bad "bad: exit status $rc, expected 78"
for m in \
	'`url` is missing' \
	'is not an http:// or https:// URL' \
	'`method`: "GE T" is not an HTTP method' \
	'`headers`: "Bad Name" is not a valid header name' \
	'`headers.X-Ok` must be a string, not integer' \
	'`follow_redirects` must be true or false' \
	'`connect_timeout` is not a duration: "soon"' \
	'`ca_file`: cannot read "/nonexistent/ca.pem"' \
	'`rate_limit` is -1' \
	'`circuit_breaker` must be an integer, not float' \
	'set `body` or `body_file`, not both' \
	'`response_time.crit` (1 s) is shorter than `warn` (2 s)' \
	'`expect.status[1]`: "6xx" is not a status or a class' \
	'`expect.status[2]`: 700 is not an HTTP status' \
	'`expect.body_regex`: /a(/ is not a POSIX extended regular expression: ' \
	'"a..b" is not a path: empty key' \
	'unknown key `exist` in the assertions of `expect.json."c"` (an object to compare with goes in `equals`) (did you mean `exists`?)' \
	'exists = false cannot be combined' \
	'`expect.json."r".<` must be a number, not string' \
	'`expect.json."e".type` must be "string", "number", "integer", "boolean", "null", "array" or "object", not "text"' \
	'unknown key `statuz` in `expect` (did you mean `status`?)' \
	'unknown placeholder `{nope}`'; do
	grep -q -F -e "$m" "$work/bad.out" && ok || bad "bad: no error \`$m\`"
done
grep -q 'bad.toml:[0-9]*:[0-9]*: ' "$work/bad.out" && ok || bad "bad: errors lack file:line:column"
printf '[plugins]\nload = ["http"]\n[plugins.http]\nrate_limt = 5\n[check.x]\ntype = "http"\nurl = "%s/"\n' \
	"$base" >"$work/badplugin.toml"
"$assay" check-config "$work/badplugin.toml" >"$work/badplugin.out" 2>&1
grep -q 'unknown key `rate_limt` in \[plugins.http\] (did you mean `rate_limit`?)' "$work/badplugin.out" && ok ||
	{ cat "$work/badplugin.out"; bad "badplugin: no suggestion"; }

# ---- concurrency, whatever the server's protocol ------------------------------------

# A keep-alive HTTP/1.1 server, one that answers with Connection: close and
# an HTTP/1.0 one: a 5 s request holds no other up, a burst runs at once,
# and the response time is the server's, not time spent in libcurl waiting
# for a connection (which made 40 bursts of 0.3 s read up to 12 s).
{
	printf '[runner]\njobs = 200\nworkers = 2\n[plugins]\nload = ["http"]\n'
	for m in keepalive:$P close:$PC http10:$P10; do
		mode=${m%%:*} port=${m#*:}
		printf '[check.%s.slow]\ntype = "http"\nurl = "http://127.0.0.1:%s/delay?ms=5000"\ntimeout = "20s"\n' \
			"$mode" "$port"
		for i in 1 2; do
			printf '[check.%s.fast%d]\ntype = "http"\nurl = "http://127.0.0.1:%s/delay?ms=100&f=%d"\ntimeout = "2s"\n' \
				"$mode" "$i" "$port" "$i"
		done
		for i in $(seq 40); do
			printf '[check.%s.burst%d]\ntype = "http"\nurl = "http://127.0.0.1:%s/delay?ms=300&b=%d"\nresponse_time = { warn = "1.5s" }\ntimeout = "20s"\n' \
				"$mode" "$i" "$port" "$i"
		done
	done
} >"$work/modes.toml"
run modes
"$PYTHON3" - "$work/modes.json" "$wall" <<'PY' && ok || bad "modes: requests to one server waited for each other"
import json, sys
d = json.load(open(sys.argv[1]))
nodes = {n["id"]: n for n in d["nodes"]}
def total(n):
    return next(m["value"] for m in n["metrics"] if m["name"] == "time_total")
errs = []
for mode in ("keepalive", "close", "http10"):
    mine = {k: n for k, n in nodes.items() if k.startswith(mode + ".")}
    bad = [f"{k}: {n['status']} {n['message']}" for k, n in mine.items() if n["status"] != "OK"]
    errs += bad[:3]
    fast = [total(mine[f"{mode}.fast{i}"]) for i in (1, 2) if mine[f"{mode}.fast{i}"]["status"] == "OK"]
    burst = [total(n) for k, n in mine.items() if ".burst" in k and n["status"] == "OK"]
    # The server sleeps 0.3 s: a time under it is not the server's either.
    if burst and min(burst) < 0.29:
        errs.append(f"{mode}: a burst reported {min(burst):.3f} s for a 0.3 s answer")
    print(f"    {mode}: fast {[round(t, 3) for t in fast]} s beside a 5 s request;"
          f" 40 x 0.3 s at once: {min(burst or [0]):.3f} to {max(burst or [0]):.3f} s each")
print(f"    all three servers: {sys.argv[2]} s wall")
if errs:
    sys.exit("    " + "\n    ".join(errs))
PY

# ---- 500 checks at once, two threads ------------------------------------------------

# Against each kind of server.  The bound is generous, for a loaded machine
# (one server at a time would take 50 s): tests/bench/http measures the
# goal, under 1 s and ahead of `xargs -P` curl.
for m in keepalive:$P close:$PC http10:$P10; do
	mode=${m%%:*} port=${m#*:}
	{
		printf '[runner]\njobs = 1000\nworkers = 2\n[plugins]\nload = ["http"]\n'
		for i in $(seq 500); do
			printf '[check.c%d]\ntype = "http"\nurl = "http://127.0.0.1:%s/delay?ms=100"\n' "$i" "$port"
		done
	} >"$work/many-$mode.toml"
	# Timed from python, so that only assay's process is measured; the
	# best of three, as a loaded machine can be slow once.
	"$PYTHON3" - "$assay" "$work/many-$mode.toml" "${HTTP_MANY_LIMIT:-5.0}" "$mode" <<'PY' && ok || bad "many: 500 checks to the $mode server over the limit or not all OK"
import json, subprocess, sys, time
assay, cfg, limit, mode = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
best = None
for attempt in range(3):
    t0 = time.perf_counter()
    p = subprocess.run([assay, "run", cfg, "--format", "json"], capture_output=True)
    wall = time.perf_counter() - t0
    if b"Sanitizer" in p.stderr or b"runtime error:" in p.stderr:
        sys.exit("    a sanitizer reported:\n" + p.stderr.decode(errors="replace")[-3000:])
    d = json.loads(p.stdout)
    if d["counts"]["OK"] != 500:
        sys.exit(f"    not all OK: {d['counts']}")
    print(f"    {mode}: 500 checks of /delay?ms=100, jobs = 1000, workers = 2: {wall:.3f} s wall"
          f" ({d['wall_seconds']:.3f} s from first start to last end)")
    best = wall if best is None else min(best, wall)
    if best < limit:
        break
sys.exit(0 if best < limit else 1)
PY
done

# Under a sanitizer build, a report on stderr is a failure even when the
# run's results look right (a leak only changes the exit status).
if grep -l -E 'Sanitizer|runtime error:' "$work"/*.err "$work"/s-cc "$work"/s-dry 2>/dev/null; then
	grep -h -E -A5 'Sanitizer|runtime error:' "$work"/*.err "$work"/s-cc "$work"/s-dry | head -40
	bad "a sanitizer reported errors (files above)"
else
	ok
fi

echo "http: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
