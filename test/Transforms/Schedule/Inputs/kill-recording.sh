#!/bin/sh
# database.mlir: starts a recording whose cost server answers 3 requests and
# then stalls, and kills ios-opt with SIGKILL as soon as the server stalls.
#   kill-recording.sh IOS_OPT INPUT DB PYTHON
ios_opt=$1 input=$2 db=$3 python=$4
here=$(dirname "$0")
marker=$db.stalled
rm -f "$marker"
"$ios_opt" "$input" -o /dev/null \
  --ios-schedule="profiler=db:$db record='exec:$python $here/stall-server.py 3 $marker'" &
pid=$!
i=0
while [ ! -e "$marker" ] && [ $i -lt 1200 ]; do
  sleep 0.05
  i=$((i + 1))
done
kill -9 $pid
wait $pid
echo "ios-opt ended with status $?"
