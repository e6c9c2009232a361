#!/usr/bin/env bash
# run.sh - build and run the wire decoders' fuzz target (wire_fuzz.c) with
# clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Usage: tests/fuzz/run.sh [SECONDS]   (default 60; needs build/ from
#        scripts/setup.sh for the generated protobuf-c code, clang-14 and
#        libclang-rt-14-dev)
# The corpus grows in build-fuzz/corpus (seeded with a message nested
# 10,000 deep, the one that once took dtxd down); a crash leaves its input
# in build-fuzz/ and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=build-fuzz
mkdir -p "$out/corpus"
if ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'ok installed'; then
	apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev >/dev/null
fi
clang-14 -g -O1 -std=c11 -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Icommon -Iparticipant-sdk/include -Ibuild/proto \
	tests/fuzz/wire_fuzz.c common/wire.c common/names.c build/proto/dtx.pb-c.c \
	$(pkg-config --cflags --libs libprotobuf-c) -o "$out/wire_fuzz"
# seed: a BranchReply nested 10,000 deep (version 1, batch item, ...)
python3 - "$out/corpus/nested" <<'PY'
import sys
inner = bytes([0x08, 0x01, 0x10, 0x01])
def varint(n):
    b = b""
    while n >= 0x80:
        b += bytes([n & 0x7f | 0x80]); n >>= 7
    return b + bytes([n])
m = inner
for _ in range(10000):
    m = bytes([0x2a]) + varint(len(m)) + m
open(sys.argv[1], "wb").write(bytes([0x08, 0x01]) + m)
PY
"$out/wire_fuzz" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 \
	-artifact_prefix="$out/" "$out/corpus"
