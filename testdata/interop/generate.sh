#!/usr/bin/env bash
# Regenerates every interop fixture in fixtures/ from the committed test PKI
# (testdata/pki) with independent implementations: BouncyCastle 1.72 for
# SM2 (Interop.java) and the OpenSSL 3 CLI for RSA and raw SM2 signatures.
# The outputs are committed so the Go tests run without Java or OpenSSL;
# verify/interop_test.go holds the verdict each fixture must get.
#
# Needs: javac/java 17, /usr/share/java/{bcprov,bcpkix,bcutil}.jar
# (Debian: libbcprov-java libbcpkix-java libbcutil-java), openssl 3.
set -euo pipefail
cd "$(dirname "$0")"
PKI=../pki
OUT=fixtures
L=$PKI/leaves
CP=/usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== BouncyCastle: SM2 SignedData (both OID styles), SM2 envelopes, raw SM2 ciphertext"
javac -nowarn -cp "$CP" -d "$tmp" Interop.java 2>&1 | grep -v '^Note:' || true
java -cp "$tmp:$CP" Interop generate "$PKI" "$OUT"

content=$OUT/content.txt
secret=$OUT/envelope-plaintext.txt

echo "== OpenSSL: RSA CMS signatures"
sign() { # name leaf extra-args...
	local name=$1 leaf=$2
	shift 2
	openssl cms -sign -binary -md sha256 -in "$content" -signer "$L/$leaf.pem" -inkey "$L/$leaf.key.pem" \
		-certfile "$PKI/trust/rsa-issuing.pem" -outform DER -out "$OUT/$name" "$@"
}
sign openssl-rsa-person-attached.p7s rsa-person -nodetach
sign openssl-rsa-person-detached.p7s rsa-person
sign openssl-rsa-person-attached-nosmimecap.p7s rsa-person -nodetach -nosmimecap
sign openssl-rsa-person-detached-keyid.p7s rsa-person -keyid
sign openssl-rsa-person-attached-noattr.p7s rsa-person -nodetach -noattr
sign openssl-rsa-org-attached.p7s rsa-org -nodetach
sign openssl-rsa-expired-attached.p7s rsa-expired -nodetach
sign openssl-rsa-revoked-attached.p7s rsa-revoked -nodetach
openssl cms -sign -binary -md sha256 -nodetach -in "$content" -signer "$L/rsa-untrusted.pem" -inkey "$L/rsa-untrusted.key.pem" \
	-outform DER -out "$OUT/openssl-rsa-untrusted-attached.p7s"
# PEM output of the same kind, as some integrators send it.
sign openssl-rsa-person-attached.pem rsa-person -nodetach -outform PEM
# SHA-1, refused unless allowed (weak-algorithm).
openssl cms -sign -binary -md sha1 -nodetach -in "$content" -signer "$L/rsa-person.pem" -inkey "$L/rsa-person.key.pem" \
	-certfile "$PKI/trust/rsa-issuing.pem" -outform DER -out "$OUT/openssl-rsa-person-attached-sha1.p7s"
# Tampered content and a flipped signature byte.
java -cp "$tmp:$CP" Interop tamper "$OUT/openssl-rsa-person-attached.p7s" "$OUT/openssl-rsa-tampered-content-attached.p7s"
java -cp "$tmp:$CP" Interop flip "$OUT/openssl-rsa-person-attached.p7s" "$OUT/openssl-rsa-flipped-signature-attached.p7s"
# BER with indefinite lengths (streaming), as poppler and other toolkits write.
sign openssl-rsa-person-attached-ber.p7s rsa-person -nodetach -stream -indef

echo "== OpenSSL: RSA envelopes"
openssl cms -encrypt -binary -aes256 -in "$secret" -recip "$L/rsa-person.pem" -outform DER -out "$OUT/openssl-rsa-envelope.p7m"
openssl cms -encrypt -binary -aes128 -keyid -in "$secret" -recip "$L/rsa-person.pem" -outform DER -out "$OUT/openssl-rsa-envelope-aes128-keyid.p7m"
# BER with indefinite lengths (streaming), as other toolkits write.
openssl cms -encrypt -binary -aes256 -stream -indef -in "$secret" -recip "$L/rsa-person.pem" -outform DER -out "$OUT/openssl-rsa-envelope-ber.p7m"

echo "== OpenSSL: raw signatures"
openssl pkeyutl -sign -inkey "$L/sm2-person.key.pem" -rawin -digest sm3 -pkeyopt distid:1234567812345678 \
	-in "$content" -out "$OUT/openssl-sm2-raw.sig"
openssl pkeyutl -sign -inkey "$L/sm2-person.key.pem" -rawin -digest sm3 -pkeyopt distid:alice@example.com \
	-in "$content" -out "$OUT/openssl-sm2-raw-other-distid.sig"
openssl dgst -sha256 -sign "$L/rsa-person.key.pem" -out "$OUT/openssl-rsa-raw.sig" "$content"
openssl dgst -sha1 -sign "$L/rsa-person.key.pem" -out "$OUT/openssl-rsa-raw-sha1.sig" "$content"

echo "== garbage"
head -c 600 /dev/urandom >"$OUT/garbage-random.bin"
head -c 200 "$OUT/openssl-rsa-person-attached.p7s" >"$OUT/garbage-truncated.p7s"
cp "$L/rsa-person.pem" "$OUT/garbage-certificate.pem"
: >"$OUT/garbage-empty.bin"

echo "fixtures written to $(pwd)/$OUT"
ls "$OUT" | wc -l
