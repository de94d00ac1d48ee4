import Testing

@Test func queueFormatPlaceholder() { #expect(Bool(true)) }
