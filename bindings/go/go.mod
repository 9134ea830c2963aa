module duosync.dev/duosync

go 1.19
