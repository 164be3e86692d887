#!/usr/bin/env python3
"""Regenerate the seed corpora in fuzz/corpus/<target>/.

Not needed to run the fuzzers (the corpora are in the repository); run it
after changing the seeds below, or the cache entry layout:

    python3 fuzz/make_corpus.py              # every corpus
    python3 fuzz/make_corpus.py cache_seal   # only these

Seeds: the example answers of docs/providers.md §3-§6, hostile JSON
(deep nesting, NUL escapes, huge numbers, duplicate keys, …), Authorization
header forms, query string forms, provider field names, scope strings and
cache entries (encoded by the cache_entry target itself, so build it first:
`scripts/fuzz.sh 1 cache_entry`) and sealed cache values (sealed by the
cache_seal target: `scripts/fuzz.sh 1 cache_seal`), compact JWS signed
with the RFC 7515 / RFC 8037 example keys (python3-cryptography) and JWK
sets.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# ---- provider answers (docs/providers.md) ---------------------------------

RFC7662_FULL = b"""{
  "active": true,
  "iss": "https://as.example.com/",
  "sub": "248289761001",
  "username": "jdoe",
  "client_id": "mobile-app-7",
  "scope": "orders:read orders:write",
  "aud": ["https://api.example.net/orders"],
  "token_type": "Bearer",
  "iat": 1767225600,
  "exp": 1767229200,
  "jti": "b8f4c0a2-1d2e",
  "tenant": "acme"
}
"""
RFC7662_INACTIVE = b'{"active": false}'
RFC7662_BAD_CLIENT = (b'{"error":"invalid_client","error_description":'
                      b'"client authentication failed"}')
RFC7662_NESTED = b"""{
  "iss": "https://as.example.com/",
  "aud": "rs-gateway",
  "iat": 1767225700,
  "token_introspection": {
    "active": true,
    "client_id": "mobile-app-7",
    "sub": "248289761001",
    "scope": "orders:read",
    "exp": 1767229200
  }
}"""
KEYCLOAK = """{
  "exp": 1767229200, "iat": 1767225600, "jti": "6f0b2c1e-5d7a-4c3e",
  "iss": "https://sso.example.com/realms/acme",
  "aud": "account", "sub": "f1d2c3b4-0000-4e6f-9a8b-1234567890ab",
  "typ": "Bearer", "azp": "mobile-app-7", "sid": "3e0c\u2026",
  "scope": "openid profile orders:read",
  "realm_access": {"roles": ["default-roles-acme", "buyer"]},
  "preferred_username": "jdoe",
  "client_id": "mobile-app-7", "username": "jdoe",
  "token_type": "Bearer", "active": true
}""".encode()
PING_INTROSPECT = b"""{
  "active": true,
  "client_id": "mobile-app-7",
  "scope": "orders:read",
  "exp": 1767229200,
  "sub": "jdoe",
  "Username": "jdoe",
  "OrgName": "Acme"
}"""
PING_VALIDATE = b"""{
  "token_type": "urn:pingidentity.com:oauth2:validated_token",
  "expires_in": 3482,
  "client_id": "mobile-app-7",
  "scope": "orders:read orders:write",
  "access_token": {
    "Username": "jdoe",
    "OrgName": "Acme",
    "group": ["buyers", "emea"]
  }
}"""
OPENAM = b"""{
  "access_token": "3f1c9b7e-0a44-4d6e-b1f2-5a6b7c8d9e0f",
  "grant_type": "authorization_code",
  "auth_level": 0,
  "scope": ["uid", "mail"],
  "realm": "/alpha",
  "token_type": "Bearer",
  "expires_in": 2491,
  "client_id": "mobile-app-7",
  "uid": "jdoe",
  "mail": "jdoe@example.com"
}"""
MULE = (b'{"expires_in": 1460, "scope": "READ WRITE", "client_id": '
        b'"a3f0c2e1b4d5", "username": "max"}')

PING_TYPE = b'"token_type":"urn:pingidentity.com:oauth2:validated_token"'


def nested(depth, leaf=b'1'):
    return b'{"active":true,"n":' + b'{"a":' * depth + leaf + b'}' * depth + b'}'


def nested_array(depth):
    return b'{"active":true,"n":' + b'[' * depth + b']' * depth + b'}'


HOSTILE = {
    "deep_30": nested(30),
    "deep_40": nested(40),
    "deep_1000": nested(1000),
    "deep_array_100": nested_array(100),
    "nul_escape_value": b'{"active":true,"sub":"jd\\u0000oe","x":"\\u0000"}',
    "nul_escape_key": b'{"active":true,"a\\u0000x":1,"a\\u0000y":2}',
    "nul_raw_byte": b'{"active":true,"sub":"jd\x00oe"}',
    "nul_after_object": b'{"active":true}\x00garbage',
    "nul_in_array": b'{"active":true,"aud":["a\\u0000b","c"],"scope":["x\\u0000y"]}',
    "huge_exp": b'{"active":true,"exp":1e400}',
    "huge_neg_exp": b'{"active":true,"exp":-1e400}',
    "huge_int_exp": b'{"active":true,"exp":99999999999999999999999999}',
    "uint64_exp": b'{"active":true,"exp":18446744073709551615}',
    "int64_min_exp": b'{"active":true,"exp":-9223372036854775808}',
    "ms_exp": b'{"active":true,"exp":1767229200000}',
    "fraction_exp": b'{"active":true,"exp":1767229200.75,"iat":1.5e9}',
    "tiny_exp": b'{"active":true,"exp":1e-320}',
    "string_exp": b'{"active":true,"exp":"1767229200"}',
    "null_exp": b'{"active":true,"exp":null,"jti":null,"username":null}',
    "zero_exp": b'{"active":true,"exp":0}',
    "dup_active": b'{"active":false,"active":true}',
    "dup_active_spaced": b'{ "active" : false , "active" : true }',
    "dup_sub": b'{"active":true,"sub":"a","sub":"b"}',
    "dup_nested_ok": b'{"active":true,"o":{"k":1,"k":2}}',
    "active_string": b'{"active":"true"}',
    "active_one": b'{"active":1}',
    "active_null": b'{"active":null}',
    "active_missing": b'{"sub":"jdoe"}',
    "active_object": b'{"active":{"active":true}}',
    "invalid_utf8": b'{"active":true,"sub":"\xff\xfe\xc3\x28","n\xe9":"v"}',
    "lone_surrogate": b'{"active":true,"sub":"\\ud800","x":"\\udc00\\ud83d\\ude00"}',
    "escapes": b'{"active":true,"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u001f","k\\"q":1}',
    "crlf_value": b'{"active":true,"sub":"jdoe\\r\\nX-AGW-Admin: 1"}',
    "trailing_data": b'{"active":true} {"active":false}',
    "trailing_ws": b'{"active":true} \r\n\t',
    "leading_bom": b'\xef\xbb\xbf{"active":true}',
    "array_top": b'[{"active":true}]',
    "null_top": b'null',
    "string_top": b'"active"',
    "empty": b'',
    "ws_only": b' \n ',
    "truncated": b'{"active":true,"sub":"jd',
    "comment": b'{"active":true /* hi */}',
    "single_quotes": b"{'active':true}",
    "trailing_comma": b'{"active":true,}',
    "nan": b'{"active":true,"exp":NaN,"x":Infinity}',
    "mixed_aud": b'{"active":true,"aud":[1,"a",null,{"x":[true]},[],"b"],"scope":[1,"a",""]}',
    "scope_spaces": b'{"active":true,"scope":"  a   b\\tc  ","client_id":7}',
    "scope_array_spaces": b'{"active":true,"scope":["a b","  c ","d\\u0000e"]}',
    "nul_scope_client": b'{"active":true,"scope":"admin\\u0000 readonly",'
                        b'"client_id":"trusted-app\\u0000x"}',
    "scope_empty": b'{"active":true,"scope":"","client_id":""}',
    "many_fields": b'{"active":true,' + b','.join(
        b'"f%d":%d' % (i, i) for i in range(300)) + b'}',
    "big_numbers": b'{"active":true,"a":1e308,"b":-0,"c":0.1e-5,"d":123456789012345678901234567890}',
    "html": b'<html><body>Login</body></html>',
}


def with_ping_type(body):
    """The same hostile body, made a PingFederate answer."""
    if body.startswith(b'{"active":true'):
        return b'{' + PING_TYPE + body[len(b'{"active":true'):]
    return body


def relative(body):
    """The same hostile body with expires_in instead of exp."""
    return body.replace(b'"exp"', b'"expires_in"')


# ---- writing ---------------------------------------------------------------

def reset(target):
    d = os.path.join(CORPUS, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


DIALECTS = ["introspection", "pingfederate", "openam", "mule"]
STATUSES = [200, 400, 401, 403, 404, 500]


def sel(dialect, status):
    return bytes([DIALECTS.index(dialect) + 4 * STATUSES.index(status)])


def dialects():
    d = reset("dialects")
    answers = [
        ("introspection", 200, "rfc7662_full", RFC7662_FULL),
        ("introspection", 200, "rfc7662_inactive", RFC7662_INACTIVE),
        ("introspection", 200, "rfc7662_nested", RFC7662_NESTED),
        ("introspection", 200, "keycloak", KEYCLOAK),
        ("introspection", 200, "ping_introspect", PING_INTROSPECT),
        ("introspection", 401, "bad_client", RFC7662_BAD_CLIENT),
        ("introspection", 403, "forbidden", b'{"error":"Client not allowed."}'),
        ("introspection", 400, "unsupported_type",
         b'{"error":"unsupported_token_type"}'),
        ("introspection", 500, "html", HTML_500),
        ("pingfederate", 200, "validate", PING_VALIDATE),
        ("pingfederate", 400, "invalid_grant",
         b'{"error":"invalid_grant","error_description":"token not found"}'),
        ("pingfederate", 401, "invalid_client", RFC7662_BAD_CLIENT),
        ("pingfederate", 401, "empty", b''),
        ("pingfederate", 403, "unauthorized_client",
         b'{"error":"unauthorized_client"}'),
        ("openam", 200, "tokeninfo", OPENAM),
        ("openam", 400, "invalid_request",
         b'{"error":"invalid_request","error_description":"Access Token not valid"}'),
        ("openam", 401, "invalid_token", b'{"error":"invalid_token"}'),
        ("openam", 404, "not_found", b'{"error":"Not found"}'),
        ("openam", 403, "invalid_client", RFC7662_BAD_CLIENT),
        ("mule", 200, "validate", MULE),
        ("mule", 400, "text", b'Invalid token'),
        ("mule", 401, "invalid_client", b'{"error":"invalid_client"}'),
        ("mule", 500, "html", HTML_500),
    ]
    for dialect, status, name, body in answers:
        write(d, "%s_%d_%s" % (dialect, status, name), sel(dialect, status) + body)
    for name, body in HOSTILE.items():
        write(d, "introspection_200_" + name, sel("introspection", 200) + body)
        write(d, "pingfederate_200_" + name,
              sel("pingfederate", 200) + relative(with_ping_type(body)))
        write(d, "openam_200_" + name, sel("openam", 200) + relative(body))
    write(d, "mule_200_expires_negative",
          sel("mule", 200) + b'{"expires_in":-5,"scope":["a"]}')
    write(d, "mule_200_expires_huge",
          sel("mule", 200) + b'{"expires_in":1e20}')
    write(d, "pingfederate_200_attrs_not_object",
          sel("pingfederate", 200) + b'{' + PING_TYPE + b',"access_token":"x"}')
    write(d, "pingfederate_200_attrs_shadow",
          sel("pingfederate", 200) + b'{' + PING_TYPE +
          b',"client_id":"real","access_token":{"client_id":"fake",'
          b'"scope":"admin","token_type":"x","access_token":"y"}}')


HTML_500 = b'<html><head><title>502 Bad Gateway</title></head></html>'


def token_header():
    d = reset("token_header")
    forms = {
        "bearer": b"Bearer abc",
        "lower": b"bearer Zk9x2-hP_q.7Lm~a+b/c=",
        "upper_spaces": b"BEARER   tok  ",
        "tabs": b"\tBearer\ttok\t",
        "jwt": b"  Bearer  eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqZG9lIn0.c2ln",
        "basic": b"Basic dXNlcjpwYXNz",
        "dpop": b"DPoP abc",
        "scheme_only": b"Bearer",
        "scheme_space": b"Bearer ",
        "two_words": b"Bearer a b",
        "padding": b"Bearer abc==",
        "inner_equals": b"Bearer ab=c",
        "only_equals": b"Bearer ===",
        "all_specials": b"Bearer -._~+/",
        "glued": b"Bearerabc",
        "percent": b"Bearer%20abc",
        "crlf": b"Bearer tok\r\nX-Injected: 1",
        "high_bytes": b"Bearer \xff\xfe",
        "nul": b"Bearer tok\x00more",
        "max_len": b"Bearer " + b"a" * 4096,
        "over_len": b"Bearer " + b"a" * 4097,
        "comma": b"Bearer abc, Bearer def",
        "empty": b"",
    }
    for name, data in forms.items():
        write(d, name, data)


def token_query():
    d = reset("token_query")
    forms = {
        "plain": b"access_token=abc",
        "encoded": b"access_token=Zk9x2-hP_q.7Lm~a%2Bb%2Fc%3D",
        "middle": b"a=1&access_token=abc&b=2",
        "twice": b"access_token=a&access_token=b",
        "name_only": b"access_token",
        "empty_value": b"access_token=",
        "nul": b"access_token=%00",
        "nul_inside": b"access_token=ab%00cd",
        "broken_escape": b"access_token=abc%",
        "short_escape": b"access_token=abc%4",
        "bad_hex": b"access_token=%zz",
        "plus": b"access_token=a+b",
        "lookalike": b"access_tokenx=abc",
        "upper": b"ACCESS_TOKEN=abc",
        "encoded_name": b"access%5Ftoken=abc",
        "ampersands": b"&&access_token=abc&&",
        "max_len": b"access_token=" + b"a" * 4096,
        "over_len": b"access_token=" + b"a" * 4097,
        "max_encoded": b"access_token=" + b"%41" * 4096,
        "over_encoded": b"access_token=" + b"%41" * 4097,
        "fragment": b"access_token=abc#frag",
        "semicolon": b"access_token=abc;x=1",
        "utf8": b"access_token=%E2%82%AC",
        "crlf": b"access_token=abc%0D%0AX-Evil:%201",
        "equals": b"access_token=abc%3D%3D",
        "none": b"a=1&b=2",
        "empty": b"",
    }
    for name, data in forms.items():
        write(d, name, data)


def sanitize():
    d = reset("sanitize")
    forms = {
        "sub": b"sub",
        "preferred_username": b"preferred_username",
        "mixed_case": b"Username",
        "prefixed": b"x-agw-user",
        "prefixed_underscore": b"X_AGW_User",
        "dotted": b"realm_access.roles",
        "space": b"field name",
        "crlf": b"a\r\nX-Evil: 1",
        "colon": b"a:b",
        "nul": b"ab\x00cd\x00",
        "high_bytes": b"n\xc3\xa9\xff",
        "cnf": b"cnf.x5t#S256",
        "all_tchar": b"!#$%&'*+-.^_`|~09azAZ",
        "ansi": b"\x7f\x1b[31mred\x1b[0m\t",
        "long": b"f" * 300,
        "empty": b"",
    }
    for name, data in forms.items():
        write(d, name, data)


def scope():
    d = reset("scope")
    forms = {
        "rfc7662": b"orders:read orders:write\norders:read",
        "runs": b"  a   b  \nb a",
        "missing": b"openid profile\nopenid email",
        "empty_have": b"\nb",
        "empty_need": b"a\n",
        "both_empty": b"\n",
        "one_line": b"openid profile email",
        "case": b"READ WRITE\nread",
        "tabs": b"a\tb\na",
        "dups": b"a a a b b\nb b a",
        "nul": b"a b\x00c\nb",
        "long": b"x" * 1000 + b" y\n" + b"x" * 1000,
    }
    for name, data in forms.items():
        write(d, name, data)


# ---- cache entries -----------------------------------------------------
#
# Encoded entries come from the C encoder itself: the cache_entry target
# writes the encoding of every answer it round-trips to FUZZ_DUMP_ENTRIES
# (so the seeds follow the layout of src/oa2f_cache_entry.c). Broken
# variants are cut from one of them; the target fixes the check word of
# every input before its second decode, so they reach the structure.

def cache_entry():
    d = reset("cache_entry")
    answers = {}
    for name, body in [("rfc7662_full", RFC7662_FULL),
                       ("rfc7662_inactive", RFC7662_INACTIVE),
                       ("keycloak", KEYCLOAK), ("ping", PING_INTROSPECT),
                       ("pingfederate_like", PING_VALIDATE.replace(
                           b'"token_type"', b'"active":true,"token_type"'))]:
        answers["answer_" + name] = body
    for name in ["nul_escape_value", "nul_in_array", "mixed_aud", "huge_exp",
                 "ms_exp", "many_fields", "dup_active", "deep_30",
                 "invalid_utf8", "crlf_value", "scope_spaces", "escapes"]:
        answers["answer_" + name] = HOSTILE[name]
    for name, body in answers.items():
        write(d, name, body)

    binary = os.path.join(HERE, "out", "fuzz_cache_entry")
    if not os.path.exists(binary):
        print("cache_entry: no %s: run `scripts/fuzz.sh 1 cache_entry` and "
              "this again for the encoded seeds" % binary)
        return
    env = dict(os.environ, FUZZ_DUMP_ENTRIES=d)
    subprocess.run([binary] + [os.path.join(d, n) for n in sorted(answers)],
                   env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    entries = sorted(n for n in os.listdir(d) if n.startswith("entry_"))
    # keep the names stable: entry_<answer size>_<check> -> entry_<answer>
    sizes = {len(b): n for n, b in answers.items()}
    for n in entries:
        size = int(n.split("_")[1])
        os.rename(os.path.join(d, n),
                  os.path.join(d, sizes[size].replace("answer_", "entry_")))
    with open(os.path.join(d, "entry_rfc7662_full"), "rb") as f:
        full = f.read()
    write(d, "broken_truncated", full[:len(full) // 2])
    write(d, "broken_check", full[:-1] + bytes([full[-1] ^ 1]))
    write(d, "broken_version", full[:4] + bytes([full[4] + 1]) + full[5:])
    write(d, "broken_active", full[:5] + b"\x02" + full[6:])
    write(d, "broken_count", full[:22] + b"\xff\xff\xff\x7f" + full[26:])


# ---- sealed cache values ---------------------------------------------
#
# Sealed by the cache_seal target itself (FUZZ_DUMP_SEALED), under its
# fixed key and aad, from the encoded seeds of cache_entry (so run that
# first); a few plain entries too, which the target seals in its second
# way. A new nonce each time: the bytes differ from run to run.

SEALED_FROM = ["entry_rfc7662_full", "entry_rfc7662_inactive",
               "entry_keycloak", "entry_crlf_value", "entry_nul_in_array",
               "entry_many_fields"]


def cache_seal():
    d = reset("cache_seal")
    src = os.path.join(CORPUS, "cache_entry")
    binary = os.path.join(HERE, "out", "fuzz_cache_seal")
    if not os.path.exists(binary):
        print("cache_seal: no %s: run `scripts/fuzz.sh 1 cache_seal` and "
              "this again" % binary)
        return
    plain = {}
    for n in SEALED_FROM:
        with open(os.path.join(src, n), "rb") as f:
            plain[n] = f.read()
    for n in SEALED_FROM[:3]:
        write(d, n, plain[n])
    tmp = os.path.join(HERE, "out", "sealed")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    env = dict(os.environ, FUZZ_DUMP_SEALED=tmp)
    subprocess.run([binary] + [os.path.join(src, n) for n in SEALED_FROM],
                   env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    # sealed_<plaintext size> -> sealed_<entry>
    sizes = {len(b): n for n, b in plain.items()}
    assert len(sizes) == len(plain), "two seeds of the same size"
    for n in os.listdir(tmp):
        size = int(n.split("_")[1])
        os.rename(os.path.join(tmp, n),
                  os.path.join(d, sizes[size].replace("entry_", "sealed_")))
    shutil.rmtree(tmp)
    with open(os.path.join(d, "sealed_rfc7662_full"), "rb") as f:
        full = f.read()
    write(d, "broken_sealed_truncated", full[:-1])
    write(d, "broken_sealed_version", full[:4] + b"\x02" + full[5:])
    write(d, "broken_sealed_head_only", full[:33])


# ---- JOSE: compact JWS and JWK sets --------------------------------------
#
# Signed with the private halves of the keys in fuzz/fuzz_jose_keys.h
# (RFC 7515 A.2, A.3, A.4; RFC 8037 A.1), so that mutations start from
# tokens that verify. Needs python3-cryptography.

def b64u(data):
    import base64
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b2i(s):
    return int.from_bytes(unb64u(s), "big")


RSA_A2 = {
    "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-"
         "Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6"
         "b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
         "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I"
         "5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb"
         "54h4FRWyuXpoQ",
    "e": "AQAB",
    "d": "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5"
         "sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCg"
         "u-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4"
         "D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8"
         "bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1"
         "DhOVRuOopznQ",
    "p": "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1"
         "l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHd"
         "wW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
    "q": "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjL"
         "Ysp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnD"
         "zQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
    "dp": "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2"
          "e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr"
          "7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
    "dq": "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoR"
          "wbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM"
          "5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
    "qi": "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0Emp"
          "ScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9S"
          "bsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
}
EC_A3 = {"crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
         "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
         "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
EC_A4 = {"crv": "P-521",
         "x": "AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6O"
              "vLFV1jSfS9tsz4qUxcWceqwQGk",
         "y": "ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL"
              "4Kkd0AZMaZmh9ubmf63e3kyMj2",
         "d": "AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzg"
              "dRhajnu0ferB0d53vM9mE15j2C"}
ED_8037 = {"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
           "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}

# RFC 7515 A.2 and A.3 as published (no kid).
A_PAYLOAD = ("eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
             "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ")
A2_TOKEN = ("eyJhbGciOiJSUzI1NiJ9." + A_PAYLOAD + ".cC4hiUPoj9Eetdgtv3hF80EGrh"
            "uB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp"
            "5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO7"
            "5vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi"
            "12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8n"
            "p6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw")
A3_TOKEN = ("eyJhbGciOiJFUzI1NiJ9." + A_PAYLOAD + ".DtEhU3ljbEg8L38VWAfUAqOyKA"
            "M6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")


def jose_keys():
    try:
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    except ImportError:
        sys.exit("make_corpus: the jws seeds need python3-cryptography")
    r = RSA_A2
    pub = rsa.RSAPublicNumbers(b2i(r["e"]), b2i(r["n"]))
    rsa_key = rsa.RSAPrivateNumbers(b2i(r["p"]), b2i(r["q"]), b2i(r["d"]),
                                    b2i(r["dp"]), b2i(r["dq"]), b2i(r["qi"]),
                                    pub).private_key()
    p256 = ec.derive_private_key(b2i(EC_A3["d"]), ec.SECP256R1())
    p521 = ec.derive_private_key(b2i(EC_A4["d"]), ec.SECP521R1())
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(unb64u(ED_8037["d"]))
    return rsa_key, p256, p521, ed


def jws_sign(keys, alg, header, payload):
    """header and payload: JSON text; the compact JWS, ES* as r||s."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature)
    rsa_key, p256, p521, ed = keys
    inp = (b64u(header) + "." + b64u(payload)).encode()
    h = {"256": hashes.SHA256(), "384": hashes.SHA384(),
         "512": hashes.SHA512()}.get(alg[2:])
    if alg.startswith("RS"):
        sig = rsa_key.sign(inp, padding.PKCS1v15(), h)
    elif alg.startswith("PS"):
        sig = rsa_key.sign(inp, padding.PSS(padding.MGF1(h), h.digest_size), h)
    elif alg == "EdDSA":
        sig = ed.sign(inp)
    else:
        key, n = (p256, 32) if alg == "ES256" else (p521, 66)
        r_, s_ = decode_dss_signature(key.sign(inp, ec.ECDSA(h)))
        sig = r_.to_bytes(n, "big") + s_.to_bytes(n, "big")
    return (inp.decode() + "." + b64u(sig)).encode()


# 2026-01-01T00:00:00Z is the targets' "now"
AT_PAYLOAD = ('{"iss":"https://as.example.com","sub":"alice","aud":"api",'
              '"exp":1767229200,"iat":1767225600,"nbf":1767225600,'
              '"client_id":"app-1","scope":"read write","jti":"j-1"}')
SCP_PAYLOAD = ('{"iss":"https://login.example.com/t/v2.0","exp":1767229200,'
               '"scp":["User.Read","Mail.Send"],"azp":"app"}')


def jws():
    d = reset("jws")
    keys = jose_keys()
    write(d, "rfc7515_a2", A2_TOKEN.encode())
    write(d, "rfc7515_a3", A3_TOKEN.encode())
    signed = [("RS256", "rsa"), ("RS384", "rsa"), ("RS512", "rsa"),
              ("PS256", "rsa"), ("PS384", "rsa"), ("PS512", "rsa"),
              ("RS256", "rsa-rs256"), ("ES256", "ec"), ("ES512", "p521"),
              ("EdDSA", "ed")]
    for alg, kid in signed:
        hdr = '{"alg":"%s","typ":"at+jwt","kid":"%s"}' % (alg, kid)
        write(d, "signed_%s_%s" % (alg, kid),
              jws_sign(keys, alg, hdr, AT_PAYLOAD))
    write(d, "signed_scp", jws_sign(keys, "ES256", '{"alg":"ES256","kid":"ec"}',
                                    SCP_PAYLOAD))
    write(d, "signed_nokid_ps256",
          jws_sign(keys, "PS256", '{"alg":"PS256"}', AT_PAYLOAD))
    write(d, "signed_expired",
          jws_sign(keys, "EdDSA", '{"alg":"EdDSA","kid":"ed"}',
                   '{"iss":"x","exp":1767225000}'))
    write(d, "signed_exp_float",
          jws_sign(keys, "EdDSA", '{"alg":"EdDSA","kid":"ed"}',
                   '{"iss":"x","exp":1767229200.5}'))
    write(d, "signed_nbf_future",
          jws_sign(keys, "EdDSA", '{"alg":"EdDSA","kid":"ed"}',
                   '{"iss":"x","exp":1767229200,"nbf":1767229000}'))
    # a kid naming a key of another type
    write(d, "mismatch_rs256_ec",
          jws_sign(keys, "RS256", '{"alg":"RS256","kid":"ec"}', AT_PAYLOAD))
    write(d, "mismatch_ps256_rs256",
          jws_sign(keys, "PS256", '{"alg":"PS256","kid":"rsa-rs256"}',
                   AT_PAYLOAD))
    write(d, "unknown_kid",
          jws_sign(keys, "ES256", '{"alg":"ES256","kid":"gone"}', AT_PAYLOAD))
    pl = b64u(AT_PAYLOAD)
    hostile = {
        "none": b64u('{"alg":"none"}') + "." + pl + ".",
        "hs256_rfc7515_a1": "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
                            + A_PAYLOAD
                            + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "crit": b64u('{"alg":"ES256","crit":["exp"],"exp":1}') + "." + pl
                + ".AAAA",
        "b64": b64u('{"alg":"ES256","b64":false,"crit":["b64"]}') + "." + pl
               + ".AAAA",
        "zip": b64u('{"alg":"ES256","zip":"DEF"}') + "." + pl + ".AAAA",
        "jwe": b64u('{"alg":"RSA-OAEP","enc":"A256GCM"}')
               + ".OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZ.48V1_ALb6US04U3b"
               ".5eym8TW_c8SuK0l.XFBoMYUZodetZdvTiFvSkQ",
        "padded": A3_TOKEN.replace(".", "=.", 1),
        "space": " " + A3_TOKEN,
        "four_parts": A3_TOKEN + ".x",
        "dup_alg": b64u('{"alg":"none","alg":"ES256"}') + "." + pl + ".AAAA",
        "payload_array": b64u('{"alg":"ES256"}') + "." + b64u("[1]") + ".AAAA",
        "opaque": "2YotnFZFEjr1zCsicMWpAA",
        "opaque_dots": "mF_9.B5f-4.1JqM",
        "der_sig": b64u('{"alg":"ES256","kid":"ec"}') + "." + pl + "."
                   + b64u(b"\x30\x44\x02\x20" + b"\x01" * 32 + b"\x02\x20"
                          + b"\x01" * 32),
    }
    for name, tok in hostile.items():
        write(d, "hostile_" + name, tok.encode())


def jwks():
    d = reset("jwks")
    r, e3, e4, ed = RSA_A2, EC_A3, EC_A4, ED_8037
    rsa_pub = '{"kty":"RSA","kid":"rsa","use":"sig","alg":"RS256","e":"%s","n":"%s"}' % (
        r["e"], r["n"])
    ec_pub = '{"kty":"EC","kid":"ec","crv":"P-256","x":"%s","y":"%s"}' % (
        e3["x"], e3["y"])
    p521_pub = '{"kty":"EC","kid":"p521","crv":"P-521","x":"%s","y":"%s"}' % (
        e4["x"], e4["y"])
    ed_pub = '{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"%s"}' % ed["x"]
    docs = {
        "all": '{"keys":[%s,%s,%s,%s]}' % (rsa_pub, ec_pub, p521_pub, ed_pub),
        "rsa": '{"keys":[%s]}' % rsa_pub,
        "empty": '{"keys":[]}',
        "dup_kid": '{"keys":[%s,%s]}' % (ec_pub, ec_pub.replace("P-256",
                                                                "P-256")),
        "private": '{"keys":[{"kty":"EC","crv":"P-256","x":"%s","y":"%s",'
                   '"d":"%s"}]}' % (e3["x"], e3["y"], e3["d"]),
        "oct": '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}',
        "enc_key": '{"keys":[%s]}' % rsa_pub.replace('"sig"', '"enc"'),
        "ops": '{"keys":[%s]}' % ec_pub.replace(
            '"kid"', '"key_ops":["verify"],"kid"'),
        "x25519": '{"keys":[{"kty":"OKP","crv":"X25519","x":"%s"}]}' % ed["x"],
        "mixed": '{"keys":[1,null,{},{"kty":"RSA"},%s]}' % ed_pub,
        "not_keys": '{"jwks":[]}',
    }
    for name, doc in docs.items():
        write(d, name, doc.encode())


TARGETS = {"dialects": dialects, "token_header": token_header,
           "token_query": token_query, "sanitize": sanitize, "scope": scope,
           "cache_entry": cache_entry, "cache_seal": cache_seal,
           "jws": jws, "jwks": jwks}


def main():
    """All corpora, or only those named on the command line."""
    names = sys.argv[1:] or list(TARGETS)
    for n in names:
        if n not in TARGETS:
            sys.exit("make_corpus: no target %s (one of %s)"
                     % (n, ", ".join(TARGETS)))
    for n in names:
        TARGETS[n]()
    for t in sorted(os.listdir(CORPUS)):
        n = len(os.listdir(os.path.join(CORPUS, t)))
        print("corpus/%s: %d files" % (t, n))


if __name__ == "__main__":
    main()
