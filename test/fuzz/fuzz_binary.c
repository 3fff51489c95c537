/*
 * fuzz_binary.c: libFuzzer target for the channel_summary binary decoder,
 * omnikpi_summary_binary_parse (src/channel_summary/summary_binary.c),
 * which the type's recv function uses.  The input is the message recv would
 * get; what is accepted must satisfy the invariants and survive both round
 * trips (fuzz_common.c).
 */
#include "fuzz_common.h"

#include <stdlib.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzSummary summary;

	/* a message longer than an int can count never reaches recv */
	if (size > (size_t) PG_INT32_MAX)
		return 0;
	fuzz_summary_init(&summary);
	if (fuzz_parse_binary((const char *) data, (int) size, &summary))
		fuzz_check_accepted(&summary);
	fuzz_summary_free(&summary);
	return 0;
}
