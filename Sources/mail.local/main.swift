// mail.local: local delivery agent (being written).
print("mail.local: not yet")
