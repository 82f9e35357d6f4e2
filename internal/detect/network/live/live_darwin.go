package live

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/gopacket/gopacket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func init() { openSource = openBPF }

// bpfMaxBuffer caps the BPF store buffer: XNU's BPF_MAXBUFSIZE is 512 KiB
// (the kernel keeps two: store and hold).
const bpfMaxBuffer = 512 << 10

// bpfSource reads one /dev/bpf device bound to an interface. Packets are
// slices into one reusable read buffer, valid until the next call.
type bpfSource struct {
	fd   int
	buf  []byte
	it   bpfIter
	link int
}

func (s *bpfSource) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, ok, err := s.it.next()
	if err != nil {
		return nil, ci, fmt.Errorf("bpf read buffer: %w", err)
	}
	if ok {
		return data, ci, nil
	}
	n, err := unix.Read(s.fd, s.buf)
	switch {
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
		return nil, ci, errTimeout
	case err != nil:
		return nil, ci, fmt.Errorf("read bpf device: %w", err)
	case n <= 0: // BIOCSRTIMEOUT expired with nothing captured
		return nil, ci, errTimeout
	}
	s.it.reset(s.buf[:n])
	data, ci, ok, err = s.it.next()
	if err != nil {
		return nil, ci, fmt.Errorf("bpf read buffer: %w", err)
	}
	if !ok {
		return nil, ci, errTimeout
	}
	return data, ci, nil
}

func (s *bpfSource) LinkType() int { return s.link }

// SetKernelFilter installs a classic BPF program on the device (BIOCSETF;
// it also flushes the device's buffer).
func (s *bpfSource) SetKernelFilter(prog []bpf.RawInstruction) error {
	if len(prog) == 0 {
		return errors.New("empty BPF program")
	}
	insns := make([]unix.BpfInsn, len(prog))
	for i, in := range prog {
		insns[i] = unix.BpfInsn{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	p := unix.BpfProgram{Len: uint32(len(insns)), Insns: &insns[0]}
	err := ioctlPtr(s.fd, unix.BIOCSETF, unsafe.Pointer(&p), unsafe.Sizeof(p))
	runtime.KeepAlive(insns)
	if err != nil {
		return fmt.Errorf("BIOCSETF: %w", err)
	}
	return nil
}

// KernelStats returns the device's BIOCGSTATS counters (received and
// dropped since it was opened; BPF has no ring freezes).
func (s *bpfSource) KernelStats() (packets, drops, freezes uint64, err error) {
	var st unix.BpfStat
	if err := ioctlPtr(s.fd, unix.BIOCGSTATS, unsafe.Pointer(&st), unsafe.Sizeof(st)); err != nil {
		return 0, 0, 0, fmt.Errorf("BIOCGSTATS: %w", err)
	}
	return uint64(st.Recv), uint64(st.Drop), 0, nil
}

func (s *bpfSource) Close() {
	if s.fd >= 0 {
		_ = unix.Close(s.fd)
		s.fd = -1
	}
}

// openBPF opens a free /dev/bpfN (needs root), binds it to the interface
// and sets it up for this host's own traffic: immediate mode, outgoing
// packets included, no promiscuous mode, reads bounded by cfg.PollTimeout.
func openBPF(cfg Config) (source, error) {
	if len(cfg.Interface) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("interface name %q is longer than %d bytes", cfg.Interface, unix.IFNAMSIZ-1)
	}
	fd, dev, err := openBPFDevice()
	if err != nil {
		return nil, err
	}
	s := &bpfSource{fd: fd}
	if err := s.setup(cfg, dev); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *bpfSource) setup(cfg Config, dev string) error {
	blen := min(max(cfg.RingBytes, 4096), bpfMaxBuffer)
	// The buffer size must be set before the interface is attached.
	if err := unix.IoctlSetPointerInt(s.fd, unix.BIOCSBLEN, blen); err != nil {
		return fmt.Errorf("%s: BIOCSBLEN %d: %w", dev, blen, err)
	}
	var ifr ifreq
	copy(ifr.name[:unix.IFNAMSIZ-1], cfg.Interface)
	if err := ioctlPtr(s.fd, unix.BIOCSETIF, unsafe.Pointer(&ifr), unsafe.Sizeof(ifr)); err != nil {
		return fmt.Errorf("%s: attach to interface %s (BIOCSETIF): %w", dev, cfg.Interface, err)
	}
	if err := unix.IoctlSetPointerInt(s.fd, unix.BIOCIMMEDIATE, 1); err != nil {
		return fmt.Errorf("%s: BIOCIMMEDIATE: %w", dev, err)
	}
	if err := unix.IoctlSetPointerInt(s.fd, unix.BIOCSSEESENT, 1); err != nil {
		return fmt.Errorf("%s: BIOCSSEESENT: %w", dev, err)
	}
	tv := unix.NsecToTimeval(cfg.PollTimeout.Nanoseconds())
	if err := ioctlPtr(s.fd, unix.BIOCSRTIMEOUT, unsafe.Pointer(&tv), unsafe.Sizeof(tv)); err != nil {
		return fmt.Errorf("%s: BIOCSRTIMEOUT %v: %w", dev, cfg.PollTimeout, err)
	}
	got, err := unix.IoctlGetInt(s.fd, unix.BIOCGBLEN)
	if err != nil {
		return fmt.Errorf("%s: BIOCGBLEN: %w", dev, err)
	}
	if got <= 0 || got > 16<<20 {
		return fmt.Errorf("%s: BIOCGBLEN reported %d bytes", dev, got)
	}
	dlt, err := unix.IoctlGetInt(s.fd, unix.BIOCGDLT)
	if err != nil {
		return fmt.Errorf("%s: BIOCGDLT: %w", dev, err)
	}
	link, err := linkForDLT(dlt)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", dev, cfg.Interface, err)
	}
	// read(2) on a BPF device must ask for exactly the buffer size.
	s.buf = make([]byte, got)
	s.link = link
	return nil
}

// openBPFDevice opens the first free /dev/bpfN. macOS creates further
// devices on demand, so ENOENT ends the search.
func openBPFDevice() (int, string, error) {
	for i := range 256 {
		dev := fmt.Sprintf("/dev/bpf%d", i)
		fd, err := unix.Open(dev, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		switch {
		case err == nil:
			return fd, dev, nil
		case errors.Is(err, unix.EBUSY):
			continue
		case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
			return -1, "", fmt.Errorf("open %s: %w (live capture needs root)", dev, err)
		case errors.Is(err, unix.ENOENT) && i > 0:
			return -1, "", fmt.Errorf("all %d /dev/bpf devices are busy", i)
		default:
			return -1, "", fmt.Errorf("open %s: %w", dev, err)
		}
	}
	return -1, "", errors.New("all 256 /dev/bpf devices are busy")
}

// ioctlPtr is ioctl(2) with a pointer to size bytes, for requests
// x/sys/unix has no typed helper for (struct ifreq, struct timeval).
// x/sys/unix reaches libSystem's ioctl only through typed helpers (a raw
// SYS_IOCTL syscall is unsupported on macOS); IoctlSetWinsize passes its
// pointer through unchanged whatever the request, and the kernel copies
// IOCPARM_LEN(req) bytes from it — checked against size here.
func ioctlPtr(fd int, req uint, arg unsafe.Pointer, size uintptr) error {
	if want := uintptr(req>>16) & 0x1fff; size != want || size < unsafe.Sizeof(unix.Winsize{}) {
		return fmt.Errorf("ioctl %#x takes %d bytes, got %d", req, want, size)
	}
	return unix.IoctlSetWinsize(fd, req, (*unix.Winsize)(arg))
}

// ifreq is struct ifreq: char ifr_name[IFNAMSIZ] and a 16-byte union.
type ifreq struct {
	_    [0]uint64 // alignment (a trailing zero-size field would add padding)
	name [unix.IFNAMSIZ]byte
	_    [16]byte
}
