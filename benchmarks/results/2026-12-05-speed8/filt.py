import sys,re
# keep only samples whose stack contains the marker
marker=sys.argv[1]
buf=[]
for line in sys.stdin:
    if line.strip()=='' :
        if any(marker in l for l in buf): sys.stdout.write(''.join(buf)+'\n')
        buf=[]
    else: buf.append(line)
if buf and any(marker in l for l in buf): sys.stdout.write(''.join(buf)+'\n')
