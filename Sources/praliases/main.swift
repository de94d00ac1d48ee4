import SMMaps
print("praliases: not yet")
