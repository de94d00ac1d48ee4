import Testing

@Test func toolsPlaceholder() { #expect(Bool(true)) }
