import Foundation
import SealedSupport
import Testing

struct PercentEncodingTests {
    @Test func leavesExactlyTheUnreservedCharacters() {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(PercentEncoding.isUnreserved(byte) == unreserved.contains(byte), "\(byte)")
            var out: [UInt8] = []
            PercentEncoding.append([byte], to: &out)
            let expected = unreserved.contains(byte) ? [byte] : Array(String(format: "%%%02X", byte).utf8)
            #expect(out == expected)
        }
    }

    @Test(arguments: [
        ("", ""),
        ("a b", "a%20b"),
        ("a+b=c&d", "a%2Bb%3Dc%26d"),
        ("/path/to ~file", "%2Fpath%2Fto%20~file"),
        ("!*'();:@$,?#[]%", "%21%2A%27%28%29%3B%3A%40%24%2C%3F%23%5B%5D%25"),
        ("é", "%C3%A9"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
        ("🎉", "%F0%9F%8E%89"),
    ])
    func encodesReservedBytesAndUTF8InUppercaseHex(text: String, encoded: String) {
        #expect(PercentEncoding.encode(text) == encoded)
        #expect(PercentEncoding.decode(Array(encoded.utf8)) == Array(text.utf8))
        #expect(PercentEncoding.decodeStrictly(encoded) == text)
    }

    @Test func lenientDecodingKeepsBadEscapesAndPlus() {
        #expect(PercentEncoding.decode(Array("%".utf8)) == Array("%".utf8))
        #expect(PercentEncoding.decode(Array("%4".utf8)) == Array("%4".utf8))
        #expect(PercentEncoding.decode(Array("%zz%41".utf8)) == Array("%zzA".utf8))
        #expect(PercentEncoding.decode(Array("a+b%2b%2B".utf8)) == Array("a+b++".utf8))
    }

    @Test func strictDecodingRefusesBadEscapesAndInvalidUTF8() {
        #expect(PercentEncoding.decodeStrictly("%") == nil)
        #expect(PercentEncoding.decodeStrictly("%4") == nil)
        #expect(PercentEncoding.decodeStrictly("%zz") == nil)
        #expect(PercentEncoding.decodeStrictly("%C3") == nil)
        #expect(PercentEncoding.decodeStrictly("%FF") == nil)
        #expect(PercentEncoding.decodeStrictly("user%3apass") == "user:pass")
        #expect(PercentEncoding.decodeStrictly("") == "")
    }
}
