/*
 * fuzz_text.c: libFuzzer target for the channel_summary text parser,
 * omnikpi_summary_text_parse (src/channel_summary/summary_text.c).  The
 * input, cut at its first zero byte as a cstring would be, is parsed; what
 * is accepted must satisfy the invariants and survive both round trips
 * (fuzz_common.c).
 */
#include "fuzz_common.h"

#include <stdlib.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	FuzzSummary summary;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_summary_init(&summary);
	if (fuzz_parse_text(text, &summary))
		fuzz_check_accepted(&summary);
	fuzz_summary_free(&summary);
	free(text);
	return 0;
}
