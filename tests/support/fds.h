/* What a test checks it gave back: the file descriptors its process holds. */
#ifndef WR_TEST_FDS_H
#define WR_TEST_FDS_H

/* How many file descriptors this process holds now (the entries of /proc/self/fd, the one that
 * reads them included), or -1 when they cannot be read. */
int wr_test_open_fds(void);

#endif
