/*  sanitized.h - DS_SANITIZED: 1 in a build with AddressSanitizer,
    ThreadSanitizer or MemorySanitizer (gcc or clang), else 0.

    Such builds replace glibc's allocator and do not survive fork well, so
    the code that talks to the allocator itself (pages.c: mappings and
    slabs; transport.c: malloc_trim) or forks (snapshot.c) takes the plain
    path there, and the sanitizer checks cover it.
*/
#ifndef DS_SANITIZED_H
#define DS_SANITIZED_H

#if defined (__SANITIZE_ADDRESS__) || defined (__SANITIZE_THREAD__)
#   define DS_SANITIZED 1
#elif defined (__has_feature)
#   if __has_feature (address_sanitizer) || __has_feature (thread_sanitizer) \
    || __has_feature (memory_sanitizer)
#       define DS_SANITIZED 1
#   endif
#endif
#ifndef DS_SANITIZED
#   define DS_SANITIZED 0
#endif

#endif
