dnl Debian 12 /etc/mail/m4/dialup.m4 (sendmail-base), copied as a test input.
