/*
 * asan_init_stub.c: preloaded after the ASan runtime by test/asan/run.sh, so
 * that an uninstrumented postgres can start with the runtime preloaded.
 *
 * Why: the preloaded runtime initializes itself lazily, on the first
 * malloc.  In postgres that first malloc happens inside libgpg-error's
 * constructor (postgres -> libsystemd -> libgcrypt -> libgpg-error), in
 * bindtextdomain(), which holds glibc's gettext lock for writing.  The
 * initialization looks up swift_demangle with dlsym; when the lookup fails,
 * dlerror() translates its message with dcgettext(), which takes the same
 * lock for reading: glibc refuses (EDEADLK), the later unlock corrupts the
 * lock, and the next bindtextdomain() in postgres' main() waits forever
 * ("postgres -V" never returns, so pg_ctl start hangs).  With this
 * definition the lookup succeeds and no message is formatted.
 *
 * The function is the runtime's optional Swift demangler; returning NULL
 * means "not a Swift name", so reports are unchanged.
 */
#include <stddef.h>
#include <stdint.h>

char	   *swift_demangle(const char *mangled, size_t mangled_len, char *out,
						   size_t *out_len, uint32_t flags);

char *
swift_demangle(const char *mangled, size_t mangled_len, char *out,
			   size_t *out_len, uint32_t flags)
{
	return NULL;
}
