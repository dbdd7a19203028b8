/* Yao's millionaires' problem, as Teaclave's wamr_c_millionaire_problem: arguments
 * input_file_id1, input_file_id2, output_file_id name the files; the richer party's input name
 * is written to the output and the number of bytes written is returned. */
#include "teaclave.h"

static int parse_int(const char *s, int n)
{
    int i = 0, value = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\n'))
        ++i;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i)
        value = value * 10 + (s[i] - '0');
    return value;
}

static int length(const char *s)
{
    int n = 0;
    while (s[n])
        ++n;
    return n;
}

static int read_number(const char *name)
{
    char buf[16];
    int fd = teaclave_open_input(name);
    if (fd < 0)
        return -1;
    int n = teaclave_read_file(fd, buf, sizeof buf);
    teaclave_close_file(fd);
    return n < 0 ? -1 : parse_int(buf, n);
}

ENTRYPOINT int entrypoint(int argc, char **argv)
{
    if (argc < 6)
        return -1;
    const char *name_a = argv[1], *name_b = argv[3], *name_out = argv[5];
    int a = read_number(name_a), b = read_number(name_b);
    if (a < 0 || b < 0)
        return -1;
    int out = teaclave_create_output(name_out);
    if (out < 0)
        return -1;
    const char *richer = a > b ? name_a : name_b;
    int written = teaclave_write_file(out, richer, length(richer));
    teaclave_close_file(out);
    return written;
}
