# SPDX-License-Identifier: ISC
# Sourced by the outbound delivery tests (t20-t28) after common.sh.
#
# require_outbound: if $TERN_BIN's check-config does not know the
# outbound settings ([server] resolver, [queue], [relay]), or the binary
# has no remote delivery agent linked in (no " relay=" log format), prints
# "ok - skipped: outbound delivery not built yet # SKIP" and exits 0, so
# the suite stays green until the feature lands.  Any other check-config
# failure is a real failure of the test.
require_outbound() {
	[ -n "${TERN_OUTBOUND_FORCE:-}" ] && return 0
	local out rc
	out=$("$PY" -c 'import sys
from outbound import outbound_supported
ok, text = outbound_supported()
print(text)
sys.exit(0 if ok else 3)' 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		return 0
	fi
	if [ "$rc" -eq 3 ] && printf '%s\n' "$out" |
		grep -Eq 'unknown section \[(relay|queue)\]|(resolver|mx_port|min_retry|max_retry|host|tls): unknown key|no remote delivery agent linked'; then
		echo "ok - skipped: outbound delivery not built yet # SKIP"
		printf '%s\n' "$out" | sed 's/^/#   /'
		exit 0
	fi
	echo "not ok - check-config accepts the outbound settings"
	printf '%s\n' "$out" | sed 's/^/#   /'
	exit 1
}
