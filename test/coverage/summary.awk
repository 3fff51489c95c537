# test/coverage/summary.awk: the Markdown summary of an lcov tracefile, for
# test/coverage/run.sh.  Variables: prefix (stripped from file names),
# commit, date.  Reads the per-file counters (LF/LH lines found/hit, FNF/FNH
# functions, BRF/BRH branches) and the line counts (DA:<line>,<count>), whose
# zeros it joins into ranges of lines no test runs.

function pct(hit, found)
{
	return found ? sprintf("%.1f%%", 100 * hit / found) : "-"
}

# Close the current range of uncovered lines of file f.
function flush(f)
{
	if (!(f in run_start))
		return
	ranges[f] = ranges[f] (ranges[f] == "" ? "" : ", ") run_start[f] (run_end[f] != run_start[f] ? "-" run_end[f] : "")
	delete run_start[f]
}

/^SF:/ { file = substr($0, 4); sub("^" prefix, "", file); files[++n] = file }
/^LF:/ { lf[file] = substr($0, 4); LF += lf[file] }
/^LH:/ { lh[file] = substr($0, 4); LH += lh[file] }
/^FNF:/ { fnf[file] = substr($0, 5); FNF += fnf[file] }
/^FNH:/ { fnh[file] = substr($0, 5); FNH += fnh[file] }
/^BRF:/ { brf[file] = substr($0, 5); BRF += brf[file] }
/^BRH:/ { brh[file] = substr($0, 5); BRH += brh[file] }
/^DA:/ {
	split(substr($0, 4), da, ",")
	if (da[2] == 0) {
		if ((file in run_start) && run_end[file] == da[1] - 1)
			run_end[file] = da[1]
		else {
			flush(file)
			run_start[file] = da[1]
			run_end[file] = da[1]
		}
	}
}
/^end_of_record/ { flush(file) }

END {
	print "# Coverage of src/ by the pg_regress suite"
	print ""
	print "Produced by `make coverage` on commit " commit ", " date ": gcc --coverage -O0, every test of test/sql run once."
	print "Branches are those gcc counts, including the ones inside PostgreSQL macros (ereport, PG_GETARG_*)."
	print ""
	print "| | covered | total | share |"
	print "|---|---:|---:|---:|"
	printf "| lines | %d | %d | **%s** |\n", LH, LF, pct(LH, LF)
	printf "| functions | %d | %d | %s |\n", FNH, FNF, pct(FNH, FNF)
	printf "| branches | %d | %d | %s |\n", BRH, BRF, pct(BRH, BRF)
	print ""
	print "| file | lines | uncovered lines | functions | branches |"
	print "|---|---:|---:|---:|---:|"
	for (i = 1; i <= n; i++) {
		f = files[i]
		printf "| %s | %s | %d | %s | %s |\n", f, pct(lh[f], lf[f]), lf[f] - lh[f], pct(fnh[f], fnf[f]), pct(brh[f], brf[f])
	}
	print ""
	print "## Lines no test runs"
	print ""
	for (i = 1; i <= n; i++)
		if (ranges[files[i]] != "")
			printf "- %s: %s\n", files[i], ranges[files[i]]
	printf "coverage: lines %s (%d of %d), functions %s, branches %s (%d of %d)\n", pct(LH, LF), LH, LF, pct(FNH, FNF), pct(BRH, BRF), BRH, BRF > "/dev/stderr"
}
