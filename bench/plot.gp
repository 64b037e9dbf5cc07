# bench/plot.gp: the headline charts of bench/run and bench/compare.
#
#   gnuplot -e "datafile='chart.dat'" -e "outfile='x.png'" \
#       -e "subtitle='...'" bench/plot.gp
#
# datafile rows: "label" median min max, each in percent of its reference
# line.  bench/run: percent of each target (it inverts memory, where less
# is better, so that for every bar above the 100 % line means the target
# is met).  bench/compare also sets charttitle, ylab and reflabel: percent
# of nats-server over TLS in the same run.
if (!exists("datafile")) datafile = 'chart.dat'
if (!exists("outfile")) outfile = 'chart.png'
if (!exists("subtitle")) subtitle = ''
if (!exists("charttitle")) charttitle = "secmsgd against the issue 6 " . \
    "targets (percent of target, higher is better)"
if (!exists("ylab")) ylab = "% of target"
if (!exists("reflabel")) reflabel = "target"

set terminal pngcairo size 1100,560 font "DejaVu Sans,10"
set output outfile
set title charttitle . "\n" . subtitle
set style fill solid 0.7 border -1
set boxwidth 0.6
set ylabel ylab
# At least 110, so that the 100 % line shows when every bar is under it.
set yrange [0:110<*]
set grid ytics
set key off
set xtics nomirror font ",9"
set bmargin 5
# The 100 % line: the target.
set arrow 1 from graph 0, first 100 to graph 1, first 100 nohead \
    lw 2 dt 2 lc rgb "#c00000" front
set label 1 reflabel at graph 0.005, first 104 tc rgb "#c00000" front

plot datafile using 0:2:(0.6):xtic(1) with boxes lc rgb "#4a7ebb", \
     '' using 0:2:3:4 with yerrorbars lc rgb "black" pt 0 lw 1.5, \
     '' using 0:2:(sprintf("%.0f%%", $2)) with labels offset 0,1 font ",9"
