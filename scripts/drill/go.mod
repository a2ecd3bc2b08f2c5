module drill

go 1.26
