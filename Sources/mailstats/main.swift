// mailstats: statistics file reader (being written).
print("mailstats: not yet")
