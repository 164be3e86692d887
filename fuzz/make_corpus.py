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
cache_seal target: `scripts/fuzz.sh 1 cache_seal`).
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


TARGETS = {"dialects": dialects, "token_header": token_header,
           "token_query": token_query, "sanitize": sanitize, "scope": scope,
           "cache_entry": cache_entry, "cache_seal": cache_seal}


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
