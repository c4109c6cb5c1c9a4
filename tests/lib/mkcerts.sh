#!/bin/bash
# mkcerts.sh DIR — create the test PKI in DIR (see the list below).
#
# Idempotent: does nothing when DIR/.done exists. Safe to run concurrently
# on the same DIR (an flock on DIR/.lock serialises the runs). Quiet on
# success; on failure prints openssl's output and exits non-zero.
#
# Created (keys: RSA as "RSA PRIVATE KEY", EC as "EC PRIVATE KEY"):
#   ca.pem ca.key                 test root CA (EC P-256)
#   other-ca.pem other-ca.key     an unrelated root CA (EC P-256)
#   int-ca.pem int-ca.key         intermediate CA signed by ca
#   server.pem server.key         EC leaf signed by ca
#   chain.pem chain.key           EC leaf signed by int-ca, then int-ca.pem
#   server-rsa.pem server-rsa.key RSA-2048 leaf signed by ca
#   wrongname.pem/.key            EC leaf by ca, SAN DNS:wrong.example, IP:192.0.2.1
#   dnsonly.pem/.key              EC leaf by ca, SAN DNS:localhost only
#   expired.pem/.key              EC leaf by ca, validity wholly in the past
#   untrusted.pem/.key            EC leaf signed by other-ca
#   big.pem/.key                  EC leaf by ca, over 16 KiB of DER: the
#                                 server SANs plus 400 more dNSNames
#   client-ca.pem client-ca.key   client CA (EC P-256)
#   client-rsa.pem/.key           RSA-2048 client cert by client-ca
#   client-ec.pem/.key            EC client cert by client-ca
#   client-ec.pk8                 client-ec.key as unencrypted PKCS#8 "PRIVATE KEY"
#   client-other.pem/.key         EC client cert signed by other-ca
# A hierarchy shaped like Let's Encrypt's (what Pomerium's autocert gets):
#   le-root-rsa.pem/.key          RSA-4096 root, self-signed (like ISRG Root X1)
#   le-root-ec.pem/.key           P-384 root, self-signed (like ISRG Root X2)
#   le-cross.pem                  the same P-384 root (subject and key) cross-
#                                 signed by le-root-rsa (like X2 by X1)
#   le-int.pem/.key               P-384 intermediate by le-root-ec, pathlen:0
#                                 (like E5/E6), signed with ecdsa-with-SHA384
#   le-leaf.pem/.key              P-256 server leaf by le-int
#   le-chain.pem                  le-leaf + le-int + le-cross: what autocert
#                                 serves. Trusting le-root-ec, a client stops
#                                 at le-int; trusting only le-root-rsa it
#                                 goes leaf -> int -> cross -> RSA root
#   le-expired.pem/.key           P-256 leaf by le-int, validity in the past
#   le-expired-chain.pem          le-expired + le-int + le-cross
#   ca.pem is also the tests' trust file: the test root CA, then le-root-ec
#   (as a system store holds ISRG Root X2), so that the double's default
#   chain (le-chain.pem, tests/lib/world.sh) is trusted. ca-only.pem is the
#   test root CA alone (the certificate of ca.key).
# Server leaves (unless said otherwise) carry SAN DNS:localhost,
# DNS:proxy.test, IP:127.0.0.1, IP:::1, EKU serverAuth, CA:FALSE,
# keyUsage digitalSignature (+ keyEncipherment for RSA). Client leaves carry
# EKU clientAuth. Every certificate is valid from yesterday for 10 years,
# except expired.pem and le-expired.pem. The le-* CAs carry the same
# extensions as the others; the le-* leaves those of the EC server leaves.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: mkcerts.sh DIR" >&2
	exit 2
fi
dir=$1
[ -e "$dir/.done" ] && exit 0
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
[ -e "$dir/.done" ] && exit 0

work=$(mktemp -d "$dir/.work.XXXXXX")
log=$work/log
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "mkcerts.sh: failed, openssl said:" >&2; cat "$log" >&2; fi; rm -rf "$work"' EXIT
umask 077

utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
valid_from=$(utc '1 day ago')
valid_to=$(utc '10 years')
past_from=$(utc '2 years ago')
past_to=$(utc '1 year ago')

mkdir "$work/newcerts"
: >"$work/index.txt"
cnf=$work/openssl.cnf
cat >"$cnf" <<EOF
[ ca ]
default_ca = testca

[ testca ]
database = $work/index.txt
new_certs_dir = $work/newcerts
serial = $work/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none

[ policy_any ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = unused

[ ext_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ext_int ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ ext_cross ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ ext_le_int ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ san_server ]
DNS.1 = localhost
DNS.2 = proxy.test
IP.1 = 127.0.0.1
IP.2 = ::1

[ ext_server_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = @san_server

[ ext_server_rsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @san_server

[ ext_wrongname ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example, IP:192.0.2.1

[ ext_dnsonly ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost

[ ext_big ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = @san_big

[ ext_client_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth

[ ext_client_rsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth

[ san_big ]
DNS.1 = localhost
DNS.2 = proxy.test
IP.1 = 127.0.0.1
IP.2 = ::1
EOF
for i in $(seq 3 402); do
	echo "DNS.$i = name$i.a-long-label-that-makes-this-certificate-big.example"
done >>"$cnf"

export OPENSSL_CONF=$cnf

eckey() { openssl ecparam -genkey -name prime256v1 -noout -out "$work/$1.key" >>"$log" 2>&1; }
p384key() { openssl ecparam -genkey -name secp384r1 -noout -out "$work/$1.key" >>"$log" 2>&1; }
rsakey() { openssl genrsa -traditional -out "$work/$1.key" 2048 >>"$log" 2>&1; }
rsa4096key() { openssl genrsa -traditional -out "$work/$1.key" 4096 >>"$log" 2>&1; }

csr() { # NAME CN
	openssl req -new -config "$cnf" -key "$work/$1.key" -subj "/CN=$2" \
		-out "$work/$1.csr" >>"$log" 2>&1
}

# sign NAME ISSUER EXTSECTION [FROM TO] — ISSUER "self" makes a root;
# MD (default sha256) is the signature's digest.
sign() {
	local name=$1 issuer=$2 ext=$3 from=${4:-$valid_from} to=${5:-$valid_to}
	local who
	if [ "$issuer" = self ]; then
		who=(-selfsign -keyfile "$work/$name.key")
	else
		who=(-cert "$work/$issuer.pem" -keyfile "$work/$issuer.key")
	fi
	openssl ca -batch -config "$cnf" -notext -rand_serial -md "${MD:-sha256}" "${who[@]}" \
		-startdate "$from" -enddate "$to" -extensions "$ext" \
		-in "$work/$name.csr" -out "$work/$name.pem" >>"$log" 2>&1
}

# leaf NAME CN KEYTYPE ISSUER EXTSECTION [FROM TO]
leaf() {
	local name=$1 cn=$2 type=$3 issuer=$4 ext=$5
	shift 5
	"${type}key" "$name"
	csr "$name" "$cn"
	sign "$name" "$issuer" "$ext" "$@"
}

leaf ca "pom-proxy test root CA" ec self ext_ca
leaf other-ca "pom-proxy unrelated CA" ec self ext_ca
leaf client-ca "pom-proxy test client CA" ec self ext_ca
leaf int-ca "pom-proxy test intermediate CA" ec ca ext_int

leaf server "pom-proxy test server" ec ca ext_server_ec
leaf chain "pom-proxy test server via intermediate" ec int-ca ext_server_ec
leaf server-rsa "pom-proxy test server RSA" rsa ca ext_server_rsa
leaf wrongname "pom-proxy test wrong name" ec ca ext_wrongname
leaf dnsonly "pom-proxy test dns only" ec ca ext_dnsonly
leaf expired "pom-proxy test expired" ec ca ext_server_ec "$past_from" "$past_to"
leaf untrusted "pom-proxy test untrusted" ec other-ca ext_server_ec
leaf big "pom-proxy test big" ec ca ext_big

leaf client-rsa "pom-proxy test client RSA" rsa client-ca ext_client_rsa
leaf client-ec "pom-proxy test client EC" ec client-ca ext_client_ec
leaf client-other "pom-proxy test client other" ec other-ca ext_client_ec

# Let's Encrypt-shaped: X1 (RSA-4096) and X2 (P-384) roots, X2 cross-signed
# by X1 (same subject, same key: its CSR is X2's), E-style intermediate by
# X2, signed with SHA-384 as Let's Encrypt's ECDSA CAs sign
leaf le-root-rsa "pom-proxy test LE root RSA (X1)" rsa4096 self ext_ca
MD=sha384 leaf le-root-ec "pom-proxy test LE root EC (X2)" p384 self ext_ca
cp "$work/le-root-ec.csr" "$work/le-cross.csr"
sign le-cross le-root-rsa ext_cross
MD=sha384 leaf le-int "pom-proxy test LE intermediate (E5)" p384 le-root-ec ext_le_int
MD=sha384 leaf le-leaf "pom-proxy test LE server" ec le-int ext_server_ec
MD=sha384 leaf le-expired "pom-proxy test LE expired" ec le-int ext_server_ec "$past_from" "$past_to"
cat "$work/le-leaf.pem" "$work/le-int.pem" "$work/le-cross.pem" >"$work/le-chain.pem"
cat "$work/le-expired.pem" "$work/le-int.pem" "$work/le-cross.pem" >"$work/le-expired-chain.pem"

cat "$work/int-ca.pem" >>"$work/chain.pem"
cp "$work/ca.pem" "$work/ca-only.pem"
cat "$work/le-root-ec.pem" >>"$work/ca.pem"
openssl pkcs8 -topk8 -nocrypt -in "$work/client-ec.key" \
	-out "$work/client-ec.pk8" >>"$log" 2>&1

for n in ca other-ca client-ca int-ca server chain server-rsa wrongname \
	dnsonly expired untrusted big client-rsa client-ec client-other; do
	mv -f "$work/$n.pem" "$work/$n.key" "$dir/"
done
for n in le-root-rsa le-root-ec le-int le-leaf le-expired; do
	mv -f "$work/$n.pem" "$work/$n.key" "$dir/"
done
mv -f "$work/client-ec.pk8" "$work/ca-only.pem" "$work/le-cross.pem" "$work/le-chain.pem" \
	"$work/le-expired-chain.pem" "$dir/"
chmod 644 "$dir"/*.pem
touch "$dir/.done"
