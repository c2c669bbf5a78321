/*  pattern_print.h - `darkscope query pattern` output.

    The pattern result carries a deflated raster (no JSON form of its own)
    and a page of sample points.  Printed as:
      table   a summary (totals, axes, raster occupancy, the page and how to
              get the next) and the raster as a small character density map
      json    the result with the raster inflated to rows of counts
      csv     the sample points: bin_start_us,token,ip
*/
#ifndef DS_PATTERN_PRINT_H
#define DS_PATTERN_PRINT_H

#include <stdio.h>
#include <msgpack.h>
#include "client.h"

//  Prints a pattern result.  Returns 0, or -1 (with a message on stderr)
//  if it is not a well-formed pattern result.
int ds_pattern_print (FILE *out, const msgpack_object *result, ds_format_t format);

#endif
