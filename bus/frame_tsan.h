/* libzmq is not built with ThreadSanitizer, which therefore cannot see ZeroMQ hand a frame from
 * the thread that filled it to another one: the receiver (an inproc pipe passes the buffer
 * itself), or the ZeroMQ thread that frees a frame made with zmq_msg_init_data (bus/outq.c).
 * Under TSan, say so: what was written into a frame before it was sent happens before its
 * receiver, or its free function, reads it. Nothing in other builds. */
#ifndef WR_FRAME_TSAN_H
#define WR_FRAME_TSAN_H

#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define WR_FRAME_SENT(p)     __tsan_release(p)
#define WR_FRAME_RECEIVED(p) __tsan_acquire(p)
#else
#define WR_FRAME_SENT(p)     ((void)(p))
#define WR_FRAME_RECEIVED(p) ((void)(p))
#endif

#endif
