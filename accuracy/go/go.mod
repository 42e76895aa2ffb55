module mapdoctoraccuracy

go 1.21
