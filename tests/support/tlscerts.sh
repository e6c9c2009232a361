#!/usr/bin/env bash
# tlscerts.sh DIR - make the certificates of the TLS tests in DIR with
# openssl, at test time (no key is kept in git):
#   ca.pem            the deployment's CA (dtxd, participants, clients)
#   other-ca.pem      a CA nobody trusts
#   ops-ca.pem        the operators' CA (dtxd --admin-tls-ca)
#   server.{pem,key}  dtxd's certificate, of ca
#   part.{pem,key}    a participant's, of ca
#   client.{pem,key}  a client's (initiator, dtxctl), of ca
#   stranger.{pem,key}  a client's, of other-ca
#   expired.{pem,key} a client's of ca that expired in 2020
#   ops.{pem,key}     an operator's, of ops-ca
#   enc.key           server.key encrypted with passphrase "hunter2"
# EC P-256 keys: fast to make and to handshake. Names carry SANs for
# 127.0.0.1 and localhost, though dtx checks the chain only (tlsconf.h).
set -euo pipefail

dir=$1
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$1" 2>/dev/null; }

ca() { # ca NAME SUBJECT
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-out "$1.pem" 2>/dev/null
}

ext=$(mktemp)
trap 'rm -f "$ext"' EXIT
printf '%s\n' 'basicConstraints=CA:FALSE' \
	'keyUsage=digitalSignature,keyEncipherment' \
	'extendedKeyUsage=serverAuth,clientAuth' \
	'subjectAltName=IP:127.0.0.1,DNS:localhost' >"$ext"

leaf() { # leaf NAME CA
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=dtx-test-$1" \
		-out "$1.csr" 2>/dev/null
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
		-CAcreateserial -days 825 -extfile "$ext" -out "$1.pem" \
		2>/dev/null
	rm -f "$1.csr"
}

expired() { # expired NAME CA: valid 2020-01-01 .. 2020-01-02
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=dtx-test-$1" \
		-out "$1.csr" 2>/dev/null
	mkdir -p cadb
	: >cadb/index.txt
	printf '%s\n' '[ca]' 'default_ca=x' '[x]' 'database=cadb/index.txt' \
		'new_certs_dir=cadb' 'serial=cadb/serial' 'default_md=sha256' \
		'policy=p' 'copy_extensions=none' '[p]' 'commonName=supplied' \
		>cadb/ca.cnf
	echo 1000 >cadb/serial
	openssl ca -batch -config cadb/ca.cnf -cert "$2.pem" \
		-keyfile "$2.key" -startdate 20200101000000Z \
		-enddate 20200102000000Z -extfile "$ext" -notext \
		-in "$1.csr" -out "$1.pem" 2>/dev/null
	rm -rf cadb "$1.csr"
}

ca ca "dtx test CA"
ca other-ca "some other CA"
ca ops-ca "dtx operators CA"
leaf server ca
leaf part ca
leaf client ca
leaf stranger other-ca
leaf ops ops-ca
expired expired ca
openssl ec -in server.key -aes256 -passout pass:hunter2 -out enc.key 2>/dev/null
