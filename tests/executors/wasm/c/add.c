/* Returns the sum of the two argument values: argv is [key1, value1, key2, value2]. */
#include "teaclave.h"

static int parse_int(const char *s)
{
    int sign = 1, value = 0;
    if (*s == '-') {
        sign = -1;
        ++s;
    }
    while (*s >= '0' && *s <= '9')
        value = value * 10 + (*s++ - '0');
    return sign * value;
}

ENTRYPOINT int entrypoint(int argc, char **argv)
{
    if (argc != 4)
        return -1;
    return parse_int(argv[1]) + parse_int(argv[3]);
}
