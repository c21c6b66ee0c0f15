"""pbwire.py - protobuf wire encoding for the tests that hand-build profiles
(pprof_reject_gen.py, http_token_symbol.py): a base-128 varint, as
profile.proto's integers and tags are written."""


def varint(v):
    """v as a varint; a negative v as its 64-bit two's complement, as protobuf writes int64."""
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)
