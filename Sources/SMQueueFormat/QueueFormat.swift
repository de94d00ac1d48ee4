// SMQueueFormat: queue file names, the qf codec, queue IDs and the mailq
// listing (being written).
