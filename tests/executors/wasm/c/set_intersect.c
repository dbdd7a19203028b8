/* Two-party set intersection: input_data1 and input_data2 hold one item per line; for each line
 * of each input, output_result1/output_result2 get "1" if the item is in the other set, else
 * "0". Returns the number of common items. Inputs up to 64 KiB each. */
#include "teaclave.h"

#define MAX_DATA 65536
#define MAX_LINES 4096

struct set {
    char data[MAX_DATA];
    int size;
    int starts[MAX_LINES];
    int lengths[MAX_LINES];
    int count;
};

static struct set left, right;

static int load(const char *name, struct set *s)
{
    int fd = teaclave_open_input(name);
    if (fd < 0)
        return -1;
    int n;
    while (s->size < MAX_DATA && (n = teaclave_read_file(fd, s->data + s->size, MAX_DATA - s->size)) > 0)
        s->size += n;
    teaclave_close_file(fd);
    if (n < 0)
        return -1;
    for (int i = 0, start = 0; i <= s->size && s->count < MAX_LINES; ++i) {
        if (i == s->size || s->data[i] == '\n') {
            if (i > start) {
                s->starts[s->count] = start;
                s->lengths[s->count++] = i - start;
            }
            start = i + 1;
        }
    }
    return 0;
}

static int same(const struct set *a, int i, const struct set *b, int j)
{
    if (a->lengths[i] != b->lengths[j])
        return 0;
    for (int k = 0; k < a->lengths[i]; ++k)
        if (a->data[a->starts[i] + k] != b->data[b->starts[j] + k])
            return 0;
    return 1;
}

static int contains(const struct set *s, const struct set *other, int i)
{
    for (int j = 0; j < other->count; ++j)
        if (same(s, i, other, j))
            return 1;
    return 0;
}

static int mark(const char *name, const struct set *s, const struct set *other)
{
    int fd = teaclave_create_output(name), common = 0;
    if (fd < 0)
        return -1;
    for (int i = 0; i < s->count; ++i) {
        int hit = contains(s, other, i);
        common += hit;
        if (teaclave_write_file(fd, hit ? "1\n" : "0\n", 2) != 2)
            return -1;
    }
    teaclave_close_file(fd);
    return common;
}

ENTRYPOINT int entrypoint(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (load("input_data1", &left) < 0 || load("input_data2", &right) < 0)
        return -1;
    int common = mark("output_result1", &left, &right);
    if (common < 0 || mark("output_result2", &right, &left) < 0)
        return -1;
    return common;
}
