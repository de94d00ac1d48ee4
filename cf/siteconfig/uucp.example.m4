divert(-1)
#
# An example SITECONFIG file: the UUCP neighbours of this host, one
# SITE() per line.  Use it as SITECONFIG(`uucp.example', `thishost', `U').
#
SITE(`neighbour1')
SITE(`neighbour2')
