#!/bin/sh
# Print comment lines saying who built a .cf, where and when.  proto.m4
# runs this only when the .mc defines SMX_BUILD_INFO (the default output
# is reproducible: the same .mc always gives the same .cf).
user=${LOGNAME:-${USER:-`id -un 2>/dev/null`}}
host=`uname -n 2>/dev/null`
echo "#####  built by $user@$host on `date`"
echo "#####  in `pwd`"
