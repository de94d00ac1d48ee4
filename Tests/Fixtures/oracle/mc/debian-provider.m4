dnl Debian 12 /etc/mail/m4/provider.m4 (sendmail-base), copied as a test input.
