import Testing

@testable import EncryptionSDK

/// The materials cache's key (moved from the UTF-8 validation tests, which went to `SealedSupportTests`).
struct MaterialsCacheKeyTests {
    @Test func cacheKeysCompareAndHashByTheirBytes() {
        let a = MaterialsCache.Key([1, 2, 3])
        #expect(a == MaterialsCache.Key([1, 2, 3]))
        #expect(a.hashValue == MaterialsCache.Key([1, 2, 3]).hashValue)
        #expect(a != MaterialsCache.Key([1, 2, 3, 0]))
        #expect(a != MaterialsCache.Key([1, 2, 4]))
        #expect(Set([a, MaterialsCache.Key([1, 2]), MaterialsCache.Key([1, 2, 3])]).count == 2)
    }
}
