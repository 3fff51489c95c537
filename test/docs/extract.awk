# test/docs/extract.awk: turns one Markdown document into the psql script that
# runs its examples and the output they must print.
#
#   awk -v script=OUT.sql -v expected=OUT.expected -f test/docs/extract.awk DOC.md
#
# Every ```sql block is an example; an ```output block that follows it (blank
# lines between are allowed) is what psql prints for it.  An example without
# an output block must print nothing.  Both files get the same marker line per
# example, naming the document's line, so a difference points at its example.
# An example must end with a complete statement (";" or a backslash command):
# otherwise its last statement would run with the next example and the
# failure would point at the wrong one.  Exits non-zero on a malformed document.

function fail(msg)
{
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	failed = 1
	exit 1
}

function trim(s)
{
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

BEGIN {
	state = "text"		# text, sql, after_sql (looking for an output block), output
	examples = 0
}

{
	line = $0
	sub(/\r$/, "", line)
}

state == "sql" {
	if (line ~ /^```[ \t]*$/) {
		if (last_sql !~ /;[ \t]*(--.*)?$/ && last_sql !~ /^[ \t]*\\/ && last_sql !~ /\\g/)
			fail("the example ending here does not end with a complete statement (\";\" or a backslash command)")
		state = "after_sql"
		next
	}
	print line > script
	if (trim(line) != "" && trim(line) !~ /^--/)
		last_sql = line
	next
}

state == "output" {
	if (line ~ /^```[ \t]*$/) {
		state = "text"
		next
	}
	print line > expected
	next
}

state == "after_sql" {
	if (trim(line) == "")
		next
	if (line ~ /^```output[ \t]*$/) {
		state = "output"
		next
	}
	state = "text"
	# fall through: this line is ordinary text (or the next example)
}

state == "text" {
	if (line ~ /^```sql[ \t]*$/) {
		examples++
		marker = sprintf("--- example %d, %s line %d ---", examples, FILENAME, FNR)
		printf "\\echo '%s'\n", marker > script
		print marker > expected
		last_sql = ""
		state = "sql"
	} else if (line ~ /^```output/)
		fail("an output block must follow an sql block")
	else if (line ~ /^[ \t]+```sql/)
		fail("an indented sql block would not be run; start it at the beginning of the line")
}

END {
	if (failed)
		exit 1
	if (state == "sql" || state == "output")
		fail("a code block is not closed")
	# An empty document still needs both files.
	printf "" > script
	printf "" > expected
}
